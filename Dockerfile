# sagan-serve on CUDA 12 + cuDNN 9 with ONNX Runtime's CUDA execution provider.
# Build:  docker build -t sagan-serve .
# Run:    docker run --gpus all -p 8080:8080 -v $PWD/models:/app/models:ro sagan-serve
# (models/ is also copied into the image, so it serves the bundled model without a mount.)
#
# Only two of the workspace's packages go in: the server and the model contract it imports. The
# trainer, the torch backend and TensorFlow.js are neither built nor installed.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.base.json ./
COPY packages/model-contract/package.json packages/model-contract/tsconfig.json packages/model-contract/
COPY packages/server/package.json packages/server/tsconfig.json packages/server/
# --ignore-scripts: the root's `prepare` would build every package; this stage builds the two it needs.
RUN npm ci -w @sagan-serve/server -w @sagan-serve/model-contract --include-workspace-root --ignore-scripts
COPY packages/model-contract/src packages/model-contract/src
COPY packages/server/src packages/server/src
RUN npx tsc -b packages/server

FROM node:20-bookworm-slim AS runtime-deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY packages/model-contract/package.json packages/model-contract/
COPY packages/server/package.json packages/server/
RUN npm ci --omit=dev -w @sagan-serve/server --ignore-scripts \
 && ! ls -d node_modules/@tensorflow node_modules/webgpu 2>/dev/null
# The CUDA 12 provider libraries (skipped by .npmrc for offline installs); this stage has network.
RUN ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js \
 && ls node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so

FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04
# MALLOC_ARENA_MAX: a reloaded model version gets new worker threads; with glibc's default of one malloc
# arena per thread (up to 8 per core) the memory a released version freed may stay with arenas the next one does not use
# (RELIABILITY.md, "Model version swap").
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    PORT=8080 \
    HOST=0.0.0.0 \
    MODELS_DIR=/app/models \
    EXECUTION_PROVIDERS=cuda,cpu
COPY --from=build /usr/local/bin/node /usr/local/bin/node
RUN groupadd --system sagan && useradd --system --gid sagan --home-dir /app sagan
WORKDIR /app
# node_modules/@sagan-serve/* are links into packages/, so the layout below keeps the workspace's paths.
COPY --from=runtime-deps --chown=sagan:sagan /app/node_modules ./node_modules
COPY --from=build --chown=sagan:sagan /app/packages/model-contract/package.json ./packages/model-contract/
COPY --from=build --chown=sagan:sagan /app/packages/model-contract/dist/src ./packages/model-contract/dist/src
COPY --from=build --chown=sagan:sagan /app/packages/server/package.json ./packages/server/
COPY --from=build --chown=sagan:sagan /app/packages/server/dist/src ./packages/server/dist/src
COPY --chown=sagan:sagan packages/server/openapi.yaml ./packages/server/
COPY --chown=sagan:sagan packages/server/public ./packages/server/public
COPY --chown=sagan:sagan models ./models
USER sagan
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# exec form: the server receives SIGTERM directly and drains before exiting.
CMD ["node", "--max-semi-space-size=2", "packages/server/dist/src/cli.js"]
