# sagan-serve on CUDA 12 + cuDNN 9 with ONNX Runtime's CUDA execution provider.
# Build:  docker build -t sagan-serve .
# Run:    docker run --gpus all -p 8080:8080 -v $PWD/models:/app/models:ro sagan-serve
# (models/ is also copied into the image, so it serves the bundled model without a mount.)

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
COPY test ./test
# npm ci runs `prepare`, which compiles TypeScript into dist/.
RUN npm ci
# The CUDA 12 provider libraries (skipped by .npmrc for offline installs); this stage has network.
RUN ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js \
 && ls node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so
RUN npm prune --omit=dev && rm -rf dist/test dist/scripts

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
COPY --from=build --chown=sagan:sagan /app/node_modules ./node_modules
COPY --from=build --chown=sagan:sagan /app/dist ./dist
COPY --chown=sagan:sagan package.json openapi.yaml ./
COPY --chown=sagan:sagan public ./public
COPY --chown=sagan:sagan models ./models
USER sagan
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# exec form: the server receives SIGTERM directly and drains before exiting.
CMD ["node", "--max-semi-space-size=2", "dist/src/cli.js"]
