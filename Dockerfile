# slogate: a small runtime image holding the binary only, running as non-root.
#   docker build -t ghcr.io/slogate/slogate:0.1.0 .
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin slogate

# glibc, CA certificates, a nonroot user (65532) and nothing else.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/slogate /usr/local/bin/slogate
USER 65532:65532
EXPOSE 10510
ENTRYPOINT ["/usr/local/bin/slogate"]
CMD ["serve", "--config.file=/etc/slogate/slogate.yaml", "--web.listen-address=:10510"]
