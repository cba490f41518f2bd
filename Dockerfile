# Two images from one file:
#   docker build --target cpu -t sagan-serve:cpu .   CPU provider; Debian slim, nothing fetched but npm packages
#   docker build -t sagan-serve .                    the last stage: CUDA 12 + cuDNN 9 with ONNX Runtime's
#                                                    CUDA execution provider, installed at build time
# Run:  docker run -p 8080:8080 sagan-serve:cpu
#       docker run --gpus all -p 8080:8080 -v $PWD/models:/app/models:ro sagan-serve
# (models/ is also copied into both images, so they serve the bundled model without a mount.)
#
# Only two of the workspace's packages go in: the server and the model contract it imports. The
# trainer, the torch backend and TensorFlow.js are neither built nor installed.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json ./
COPY packages/model-contract/package.json packages/model-contract/tsconfig.json packages/model-contract/
COPY packages/bench-stats/package.json packages/bench-stats/tsconfig.json packages/bench-stats/
COPY packages/server/package.json packages/server/tsconfig.json packages/server/
# --ignore-scripts: the root's `prepare` would build every package; this stage builds what the server's build
# references (bench-stats only because the server's scripts use it: nothing of it is shipped).
RUN npm ci -w @sagan-serve/server -w @sagan-serve/model-contract -w @sagan-serve/bench-stats --include-workspace-root --ignore-scripts
COPY packages/bench-stats/src packages/bench-stats/src
COPY packages/model-contract/src packages/model-contract/src
COPY packages/server/src packages/server/src
RUN npx tsc -b packages/server

FROM node:20-bookworm-slim AS runtime-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/model-contract/package.json packages/model-contract/
COPY packages/server/package.json packages/server/
# --ignore-scripts: no dependency's install script runs, whatever npm's version (onnxruntime-node's would
# download the CUDA provider; the `cuda-provider` stage runs it on purpose). onnxruntime-node ships its
# binaries for every OS and CPU: the images keep Linux's for the CPU they are built for.
RUN npm ci --omit=dev -w @sagan-serve/server --ignore-scripts \
 && ! ls -d node_modules/@tensorflow node_modules/webgpu 2>/dev/null \
 && arch=$(node -p process.arch) \
 && find node_modules/onnxruntime-node/bin/napi-v6 -mindepth 2 -maxdepth 2 ! -path "*/linux/$arch" -exec rm -r {} + \
 && ls node_modules/onnxruntime-node/bin/napi-v6/linux/$arch/onnxruntime_binding.node

# The files both images serve from, in the workspace's layout: node_modules/@sagan-serve/* are links
# into packages/. Owned by root: the server writes nothing, so its user cannot change its own code.
FROM scratch AS app
COPY --from=runtime-deps /app/node_modules /app/node_modules
COPY --from=build /app/packages/model-contract/package.json /app/packages/model-contract/
COPY --from=build /app/packages/model-contract/dist/src /app/packages/model-contract/dist/src
COPY --from=build /app/packages/server/package.json /app/packages/server/
COPY --from=build /app/packages/server/dist/src /app/packages/server/dist/src
COPY packages/server/openapi.yaml /app/packages/server/
COPY packages/server/public /app/packages/server/public
COPY models /app/models

FROM debian:bookworm-slim AS cpu
# MALLOC_ARENA_MAX: a reloaded model version gets new worker threads; with glibc's default of one malloc
# arena per thread (up to 8 per core) the memory a released version freed may stay with arenas the next one does not use
# (RELIABILITY.md, "Model version swap").
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    PORT=8080 \
    HOST=0.0.0.0 \
    MODELS_DIR=/app/models \
    EXECUTION_PROVIDERS=cpu
# Node's own binary only: npm and yarn are build tools, not needed to serve.
COPY --from=build /usr/local/bin/node /usr/local/bin/node
RUN groupadd --gid 10001 sagan \
 && useradd --uid 10001 --gid sagan --no-log-init --no-create-home --home-dir /app --shell /usr/sbin/nologin sagan
COPY --from=app /app /app
WORKDIR /app
# Numeric, as in deploy/, so that Kubernetes' runAsNonRoot can verify it without a runAsUser.
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# exec form: node is PID 1 and receives SIGTERM itself; the server handles it, drains and exits 0 (it
# starts no child processes, so there are no orphans for an init to reap).
CMD ["node", "--max-semi-space-size=2", "packages/server/dist/src/cli.js"]

# The CUDA 12 provider libraries, which onnxruntime-node's install script fetches from its NuGet feed (the
# CPU and WebGPU providers ship inside the npm package). Only the CUDA image uses this stage. `true` makes
# the script install its platform's manifest, cuda12 on linux/x64: onnxruntime-node 1.30 reads a named
# manifest (`cuda12`) as no flag at all (README, "Execution providers and CUDA").
FROM runtime-deps AS cuda-provider
RUN ONNXRUNTIME_NODE_INSTALL=true node node_modules/onnxruntime-node/script/install.js \
 && ls node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so

FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04 AS cuda
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    PORT=8080 \
    HOST=0.0.0.0 \
    MODELS_DIR=/app/models \
    EXECUTION_PROVIDERS=cuda,cpu
COPY --from=build /usr/local/bin/node /usr/local/bin/node
RUN groupadd --gid 10001 sagan \
 && useradd --uid 10001 --gid sagan --no-log-init --no-create-home --home-dir /app --shell /usr/sbin/nologin sagan
COPY --from=app /app /app
COPY --from=cuda-provider /app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_*.so \
     /app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/
WORKDIR /app
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--max-semi-space-size=2", "packages/server/dist/src/cli.js"]
