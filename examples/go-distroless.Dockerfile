# syntax=docker/dockerfile:1
# A Go web service on distroless: no shell, no package manager, runs as nonroot (65532).
# Self-contained (the source is inlined), so `docker build -f go-distroless.Dockerfile .` works anywhere.
ARG GO_VERSION=1.23

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY <<EOF go.mod
module example.com/hello

go 1.23
EOF
COPY <<EOF main.go
package main

import (
	"fmt"
	"net/http"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") })
	_ = http.ListenAndServe(":8080", nil)
}
EOF
RUN CGO_ENABLED=0 go build -o /hello .

FROM gcr.io/distroless/static:nonroot
COPY --from=build /hello /hello
EXPOSE 8080
ENTRYPOINT ["/hello"]
