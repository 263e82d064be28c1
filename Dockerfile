# syntax=docker/dockerfile:1
# otelcol-auth0 image: built with ocb from builder-config.yaml, shipped on a
# minimal non-root base. `docker build -t ghcr.io/otelcol-auth0/otelcol-auth0:0.1.0 .`

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
# A static binary for the distroless base.
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The same command as `make build` (ocb in three steps, the pinned release
# checked): the binary lands in _build/otelcol-auth0.
RUN scripts/build.sh

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/_build/otelcol-auth0 /otelcol-auth0
# The conventional place of a collector image's configuration; Kubernetes
# mounts its ConfigMap over /etc/otelcol-auth0.
COPY otelcol-config.yaml /etc/otelcol-auth0/config.yaml
USER 10001:10001
# 8080 Auth0 receiver, 13133 health_check, 8888 the collector's own metrics.
EXPOSE 8080 13133 8888
ENTRYPOINT ["/otelcol-auth0"]
CMD ["--config=/etc/otelcol-auth0/config.yaml"]
