# syntax=docker/dockerfile:1
# A small service on Red Hat UBI 9 minimal: microdnf and a shell, runs as 1001.
FROM registry.access.redhat.com/ubi9/ubi-minimal:9.4
RUN microdnf -y install procps-ng-3.3.17 \
    && microdnf clean all
COPY --chmod=755 <<EOF /usr/local/bin/serve
#!/bin/sh
while true; do date; sleep 30; done
EOF
USER 1001
CMD ["/usr/local/bin/serve"]
