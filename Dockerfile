# LlamaServe in a container: built with the official Swift toolchain image, run on slim Debian with nothing
# but the binary and the default configuration file. The model is not in the image: mount a folder of GGUF
# files at /models (see README.md, "Docker").
#
#   make model                     # the default model into ./models (or bring your own GGUF)
#   docker build -t llamaserve .
#   docker run --rm -p 8080:8080 -v "$PWD/models:/models:ro" --stop-timeout 35 llamaserve
#
# x86-64: Package.swift compiles the kernels with `-target-cpu haswell` (AVX2, FMA, F16C), so the image needs an
# x86-64 CPU from 2013 or later (Intel Haswell, AMD Excavator/Zen); older ones stop with SIGILL. arm64 builds
# use the generic baseline.

# Debian 12 for both stages: the distribution the project is developed and tested on, so `make test-image`
# (Tests/Image) can carry out both stages without Docker and run the result.

# ---- build: the Swift toolchain (bookworm = Debian 12, the same glibc as the runtime stage) ----
FROM swift:6.3-bookworm AS build
WORKDIR /build
# .dockerignore admits only Package.swift, Sources/, Tests/ (SwiftPM wants every declared target's folder,
# tests included, even when it builds only the product) and Config/.
COPY . .
# Static Swift standard library and Foundation: the runtime stage needs no Swift runtime packages.
RUN swift build -c release --static-swift-stdlib --product llamaserve \
    && install -D "$(swift build -c release --static-swift-stdlib --show-bin-path)/llamaserve" /staging/llamaserve \
    && install -D -m 0644 Config/llamaserve.json /staging/Config/llamaserve.json

# ---- runtime: Debian 12 slim (glibc, libstdc++ and bash are all the binary and the health check use) ----
FROM debian:bookworm-slim
RUN useradd --system --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin llamaserve \
    && mkdir -p /models
WORKDIR /app
COPY --from=build /staging/ /app/

# Configuration by environment (Config/README.md lists every LLAMASERVE_* variable); these override
# /app/Config/llamaserve.json, which can itself be replaced by a mount.
ENV LLAMASERVE_HOST=0.0.0.0 \
    LLAMASERVE_PORT=8080 \
    LLAMASERVE_MODEL=/models/SmolLM2-135M-Instruct.Q4_1.gguf
VOLUME ["/models"]
EXPOSE 8080
USER llamaserve:llamaserve

# /health is 503 while the model loads and 200 when it is ready. The probe is bash's /dev/tcp, so the image
# needs no curl; Tests/EndToEnd/test_deploy_docker.py runs this exact command against a real server.
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${LLAMASERVE_PORT:-8080} && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && head -c 12 <&3 | grep -q ' 200'"]

# SIGTERM (docker stop) drains running requests for up to LLAMASERVE_DRAIN_TIMEOUT (30 s) and exits 0: give
# `docker stop` / `--stop-timeout` a little longer than that (Docker's default is 10 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/llamaserve"]
CMD ["serve"]
