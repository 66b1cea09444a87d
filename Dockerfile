# dwsnetd image: build with the same scripts CI uses, ship only runtime libraries.
#   docker build -t dwsnet .
#   podman build --format docker -t dwsnet .    # (also buildah bud --format docker)
#   docker run --rm -p 8080:8080 dwsnet
#   docker run --rm -p 8080:8080 -v "$PWD/models:/opt/dwsnet/models:ro" dwsnet
# podman and buildah write OCI images by default, and the OCI format has no
# HEALTHCHECK: build with --format docker to keep it.
# tests/integration/deploy_dockerfile.sh keeps this file in step with
# scripts/install-deps and the Makefile; make test-container builds and runs it.

FROM debian:bookworm-slim AS build
WORKDIR /src
COPY . .
# models/ may be absent from a checkout; the runtime stage copies it either way.
RUN scripts/install-deps --build-only \
 && make -j"$(nproc)" all \
 && mkdir -p models \
 && make install PREFIX=/usr/local DESTDIR=/out

FROM debian:bookworm-slim AS runtime
COPY scripts/install-deps /tmp/dwsnet-deps/scripts/install-deps
RUN /tmp/dwsnet-deps/scripts/install-deps --runtime --clean \
 && rm -rf /tmp/dwsnet-deps \
 && groupadd --system --gid 10001 dwsnet \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin dwsnet
COPY --from=build /out/usr/local/bin/ /usr/local/bin/
# The shipped models, where a volume mounted over them replaces them; both programs
# find them through DWSNET_MODELS (dwsnet adapt/embed inside the image too).
COPY --from=build /out/usr/local/share/dwsnet/models /opt/dwsnet/models
ENV DWSNETD_LISTEN=0.0.0.0:8080 \
    DWSNET_MODELS=/opt/dwsnet/models
USER 10001:10001
EXPOSE 8080
# The port follows DWSNETD_LISTEN (docker run -e DWSNETD_LISTEN=0.0.0.0:9090 ...).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${DWSNETD_LISTEN##*:}/healthz" || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/dwsnetd"]
