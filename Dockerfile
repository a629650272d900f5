# syntax=docker/dockerfile:1
# The joule host plus the EV platform's components, laid out as spin.toml expects:
#   /app/spin.toml
#   /app/components/target/wasm32-wasip2/release/*.wasm
#   /app/components/<name>/migrations/
# Build: docker build -t joule .

ARG RUST_VERSION=1.95

# ---- build: the guest components (wasm32-wasip2) and the joule binary ----
# Bookworm, like the runtime stage, so the binary's glibc matches.
FROM rust:${RUST_VERSION}-bookworm AS build
RUN rustup target add wasm32-wasip2
WORKDIR /src
COPY . .

# Cache mounts keep the registry and target dirs between builds on one builder; their
# contents are not in the image, so results are copied to /out in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/components/target \
    cd components \
    && cargo build --locked --release --target wasm32-wasip2 \
    && mkdir -p /out/components/target/wasm32-wasip2/release \
    && cp target/wasm32-wasip2/release/*.wasm /out/components/target/wasm32-wasip2/release/

RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --locked --release -p joule \
    && cp target/release/joule /out/joule

# Each component's migrations directory, at the same relative path.
RUN for dir in components/*/migrations; do \
        mkdir -p "/out/$dir" && cp -R "$dir/." "/out/$dir/"; \
    done \
    && cp spin.toml /out/spin.toml

# ---- runtime ----
FROM debian:bookworm-slim
# joule links no TLS or other system libraries beyond glibc, so nothing is installed.
RUN groupadd --system --gid 10001 joule \
    && useradd --system --uid 10001 --gid joule --home-dir /app --no-create-home --shell /usr/sbin/nologin joule \
    && install -d -o joule -g joule /var/lib/joule

# Owned by root and read-only to joule: only the state directory is writable.
COPY --from=build /out/joule /usr/local/bin/joule
COPY --from=build /out/spin.toml /app/spin.toml
COPY --from=build /out/components /app/components

WORKDIR /app
ENV JOULE_MANIFEST=/app/spin.toml \
    JOULE_STATE_DIR=/var/lib/joule \
    JOULE_LISTEN=0.0.0.0:3000 \
    JOULE_ADMIN_LISTEN=0.0.0.0:3001
USER 10001:10001
EXPOSE 3000 3001

# bookworm-slim has no curl or wget; bash's /dev/tcp sends the GET instead of installing
# one (and its libraries) just for this. Kubernetes uses the chart's probes, not this.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${JOULE_LISTEN##*:} && printf 'GET /health/live HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && read -r -t 2 _ status _ <&3 && [ \"$status\" = 200 ]"]

ENTRYPOINT ["joule"]
CMD ["up"]
