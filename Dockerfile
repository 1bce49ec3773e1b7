# slogate: a small runtime image holding the binary only, running as non-root.
#   docker build --build-arg REVISION=$(git rev-parse --short=12 HEAD) \
#     -t ghcr.io/slogate/slogate:0.1.0 .
# Pin the base images by digest for reproducible builds, e.g.
#   --build-arg RUST_IMAGE=rust:1-bookworm@sha256:<digest>
#   --build-arg RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot@sha256:<digest>
# (`docker buildx imagetools inspect <image>` prints the digest).
ARG RUST_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${RUST_IMAGE} AS build
WORKDIR /src
# Dependencies in their own layer: rebuilt only when the manifests change.
COPY Cargo.toml Cargo.lock build.rs ./
# The allocator's settings are read when it is built (see .cargo/config.toml).
COPY .cargo ./.cargo
# Every target the manifest declares must exist for cargo to read it.
RUN mkdir -p src benches tests/integration \
 && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
 && echo 'fn main() {}' > benches/scrape_load.rs && touch tests/integration/main.rs \
 && cargo build --release --locked --bin slogate \
 && rm -rf src benches tests
COPY . .
# The revision slogate_build_info reports (no .git in the build context).
ARG REVISION=unknown
ENV SLOGATE_REVISION=${REVISION}
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin slogate

# glibc, CA certificates, a nonroot user (65532) and nothing else.
FROM ${RUNTIME_IMAGE}
ARG REVISION=unknown
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="slogate" \
      org.opencontainers.image.description="Service-level objectives in, readiness signals out, against a real Prometheus" \
      org.opencontainers.image.source="https://github.com/slogate/slogate" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /src/target/release/slogate /usr/local/bin/slogate
USER 65532:65532
EXPOSE 10510
ENTRYPOINT ["/usr/local/bin/slogate"]
CMD ["serve", "--config.file=/etc/slogate/slogate.yaml", "--web.listen-address=:10510"]
