# syntax=docker/dockerfile:1
# A tiny static site on Alpine: apk and busybox sh are there, so `docker exec … sh` works.
FROM alpine:3.20
RUN apk add --no-cache busybox-extras
WORKDIR /www
COPY <<EOF index.html
<h1>hello from alpine</h1>
EOF
RUN adduser -D -u 1000 web
USER web
EXPOSE 8080
HEALTHCHECK CMD ["wget", "-q", "-O-", "http://localhost:8080/"]
CMD ["busybox-extras", "httpd", "-f", "-p", "8080", "-h", "/www"]
