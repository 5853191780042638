#!/usr/bin/env bash
# Build the two tiny local images the demo uses, FROM scratch with Debian's static busybox (no registry needed):
#   debugbox-demo/toolbox:local         busybox with every applet installed (the debugger side)
#   debugbox-demo/distroless-app:local  busybox copied as /httpd serving /www on :8080, and no shell at all
set -euo pipefail
work=${1:?usage: build-test-images.sh WORKDIR}
mkdir -p "$work/toolbox" "$work/target/www"
cp /bin/busybox "$work/toolbox/busybox"
cp /bin/busybox "$work/target/busybox"
echo "hello from the distroless app" > "$work/target/www/index.html"
cat > "$work/toolbox/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENTRYPOINT ["/bin/sh"]
DOCKERFILE
cat > "$work/target/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /httpd
COPY www /www
ENTRYPOINT ["/httpd", "-f", "-p", "8080", "-h", "/www"]
DOCKERFILE
docker build -q -t debugbox-demo/toolbox:local "$work/toolbox"
docker build -q -t debugbox-demo/distroless-app:local "$work/target"
