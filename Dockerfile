# dwsnetd image: build with the same scripts CI uses, ship only runtime libraries.
#   docker build -t dwsnet .
#   docker run --rm -p 8080:8080 dwsnet
#   docker run --rm -p 8080:8080 -v "$PWD/models:/opt/dwsnet/models:ro" dwsnet
# tests/integration/deploy_dockerfile.sh keeps this file in step with
# scripts/install-deps and the Makefile (no Docker engine runs in CI).

FROM debian:bookworm-slim AS build
WORKDIR /src
COPY . .
# models/ may be absent from a checkout; the runtime stage copies it either way.
RUN scripts/install-deps --build-only \
 && make -j"$(nproc)" all \
 && mkdir -p models

FROM debian:bookworm-slim AS runtime
COPY scripts/install-deps /tmp/dwsnet-deps/scripts/install-deps
RUN /tmp/dwsnet-deps/scripts/install-deps --runtime \
 && rm -rf /tmp/dwsnet-deps /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 dwsnet \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin dwsnet
COPY --from=build /src/bin/dwsnetd /src/bin/dwsnet /usr/local/bin/
# A volume mounted here replaces the baked-in models.
COPY --from=build /src/models /opt/dwsnet/models
ENV DWSNETD_LISTEN=0.0.0.0:8080 \
    DWSNETD_MODELS=/opt/dwsnet/models
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:8080/healthz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/dwsnetd"]
