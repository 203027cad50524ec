# seqcast: a static Go binary in an empty (scratch) image.
#
#   docker build -t seqcast .
#   docker build -t seqcast --build-arg VERSION=$(git describe --tags --always --dirty) \
#       --build-arg COMMIT=$(git rev-parse --short HEAD) .
#   docker run --rm -p 8000:8000 seqcast
#
# The build stage runs `make build`, the same target (and so the same flags:
# CGO_ENABLED=0 -trimpath -ldflags '-s -w -X main.version=...') as a local
# build; deploy/deploy_test checks this file against the Makefile. No Docker
# engine runs where the tests run: they copy the binary alone into an empty
# directory and serve from it under chroot as uid 65532 instead.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Empty: the Makefile's defaults (git describe / rev-parse, or dev/unknown
# without .git in the build context; see .dockerignore).
ARG VERSION=
ARG COMMIT=
ARG DATE=
RUN make build ${VERSION:+VERSION=$VERSION} ${COMMIT:+COMMIT=$COMMIT} ${DATE:+DATE=$DATE} \
    && ./bin/seqcast version

FROM scratch
# CA certificates for rediss:// (Redis over TLS); nothing else is needed:
# the gold model is embedded in the binary.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /src/bin/seqcast /seqcast
# Extra models (TF Serving layout NAME/VERSION/): mount them here and set
# SEQCAST_MODELS_DIR=/models (or --models-dir /models). Without it the
# embedded gold model is served.
VOLUME ["/models"]
USER 65532:65532
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/seqcast", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/seqcast"]
CMD ["serve"]
