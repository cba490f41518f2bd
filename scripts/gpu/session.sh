#!/usr/bin/env bash
# One prepared run for a GPU machine session (issue 5, and the checks issue 2 leaves for a GPU): everything
# in a single `device` call, well under its 10-minute limit, results in $OUT.
#
#   here:  npm ci && npm run build && bash ../shared/gpu/pack.sh --serve
#   there: source .gpu/setup.sh && bash scripts/gpu/session.sh      (device `run`, carry [".gpu", "packages/model-contract/dist", "packages/server/dist"])
#
# Steps (each bounded by `timeout`, 575 s in all at worst; all output goes to $OUT/session.log as it runs, so a step that fails or
# runs out of time leaves what it printed; $OUT gets five files: the device returns at most eight):
#   1. machine: GPU, driver, node; which providers the server actually gets for webgpu,cpu (the models
#      endpoint), so "webgpu skipped: no GPU device" shows at once;
#   2. PyTorch parity on that provider with the committed torch.onnx.export (packages/server/test/fixtures/pytorch-export);
#   3. the paper-scale SAGAN-128 generator from the project's graph module: npm run bench (raw ceiling
#      and server at 1/8/32/64 clients) and bench:healthz;
#   4. PyTorch eager on the same GPU for the same generator (packages/server/scripts/pytorch/bench_generator.py): the
#      anchor of issue 5's "server >= 50% of PyTorch bf16 at batch 16";
#   5. the PNG encoders at 128x128 on that machine's CPUs (npm run bench:png): whether encoding could cap
#      a GPU server there;
#   6. what the machine offers for building the torch training backend against its own PyTorch (compiler,
#      cmake, torch.utils.cmake_prefix_path, torch.version.cuda, whether this pack has cmake-js), the facts
#      a GPU training design depends on. TRY_TORCH_BUILD=1 also tries the build (up to 300 s more, so in a
#      call of its own).
# SMOKE=1 runs the same steps small and on the CPU provider (a check of this script on a machine without
# a GPU; about 3 minutes on 2 cores). PROVIDERS overrides the provider list (default webgpu,cpu).
set -u
OUT=${OUT:-$PWD/tmp/gpu-session}
mkdir -p "$OUT"
PROVIDERS=${PROVIDERS:-webgpu,cpu}
# A python3 with torch (on the GPU machine, the one on PATH; here, e.g. Debian's python3-torch: PYTHON=/usr/bin/python3).
PYTHON=${PYTHON:-python3}
if [ "${SMOKE:-0}" = 1 ]; then
  PROVIDERS=${PROVIDERS_SMOKE:-cpu}
  SIZE=32; WIDTH=4; CLASSES=10; ATTENTION=16; DURATION=3; HEALTHZ_DURATION=4; TORCH_SECONDS=0.5; TORCH_DEVICE=cpu
else
  SIZE=128; WIDTH=64; CLASSES=1000; ATTENTION=32; DURATION=6; HEALTHZ_DURATION=10; TORCH_SECONDS=2; TORCH_DEVICE=cuda
fi
MODEL_DIR=/tmp/sagan${SIZE}
log() { echo "[gpu-session $(date +%H:%M:%S)] $*" | tee -a "$OUT/session.log"; }
step() { # name, seconds, command...
  local name=$1 limit=$2; shift 2
  log "$name (at most ${limit}s)"
  timeout --signal=TERM --kill-after=10 "$limit" "$@" >> "$OUT/session.log" 2>&1
  log "$name: exit $?"
}

step machine 45 bash -c '
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || echo "no nvidia-smi"
  echo "node $(node --version)"
  dir=$(mktemp -d); ln -s "$PWD/models/dogs64" "$dir/dogs64"
  MODELS_DIR=$dir EXECUTION_PROVIDERS='"$PROVIDERS"' PORT=18080 LOG_LEVEL=info node --max-semi-space-size=2 packages/server/dist/src/cli.js > "$dir/server.log" 2>&1 &
  pid=$!
  # node, not curl: the GPU machine may not have curl.
  node -e "
    const base = \"http://127.0.0.1:18080\";
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    (async () => {
      for (let i = 0; i < 240; i++) { try { if ((await fetch(base + \"/readyz\")).ok) break; } catch {} await sleep(500); }
      console.log(await (await fetch(base + \"/v1/models/dogs64\")).text());
      const t = performance.now(); const res = await fetch(base + \"/generate?class=saint_bernard&seed=7\"); await res.arrayBuffer();
      console.log(\"generate: HTTP \" + res.status + \", \" + (performance.now() - t).toFixed(1) + \" ms\");
    })();"
  kill -TERM $pid; wait $pid
  grep -i "provider\|skipped\|fail" "$dir/server.log" | head -20'

step parity 60 node packages/server/dist/scripts/check-pytorch-parity.js packages/server/test/fixtures/pytorch-export --providers "$PROVIDERS"

step make-model 45 node packages/server/dist/scripts/make-model.js --out "$MODEL_DIR" --size $SIZE --width $WIDTH \
  --num-classes $CLASSES --attention $ATTENTION --name sagan$SIZE --version 0-untrained

step bench 240 node packages/server/dist/scripts/bench.js --providers "$PROVIDERS" --model-dir "$MODEL_DIR" \
  --batch-sizes 1,4,16,32,64 --duration $DURATION --raw-seconds 2 --quiet-wait 0 --retries 0 --out "$OUT/bench.json"

step healthz 60 node packages/server/dist/scripts/bench-healthz.js --providers "$PROVIDERS" --model-dir "$MODEL_DIR" \
  --duration $HEALTHZ_DURATION --min-probes 0 --quiet-wait 0 --retries 0 --out "$OUT/healthz.json"

step pytorch 90 "$PYTHON" packages/server/scripts/pytorch/bench_generator.py --size $SIZE --ch $WIDTH --classes $CLASSES \
  --attention $ATTENTION --batch-sizes 1,16,64 --modes fp32,tf32,bf16-autocast,bf16-channels-last \
  --seconds $TORCH_SECONDS --device $TORCH_DEVICE --out "$OUT/pytorch.json"

step png 15 node packages/server/dist/scripts/bench-png.js --model-dir "$MODEL_DIR" --sizes $SIZE --seconds 1 --out "$OUT/png.json"

step torch-build-facts 20 bash -c '
  for tool in g++ c++ cmake make; do
    if command -v $tool > /dev/null; then echo "$tool: $($tool --version | head -1)"; else echo "$tool: not found"; fi
  done
  "$0" - <<PY
import os, torch
prefix = torch.utils.cmake_prefix_path
include = os.path.join(os.path.dirname(torch.__file__), "include")
print("torch", torch.__version__, "| torch.version.cuda", torch.version.cuda, "| cuda available", torch.cuda.is_available())
print("torch.utils.cmake_prefix_path", prefix, "| TorchConfig.cmake:", os.path.exists(os.path.join(prefix, "Torch", "TorchConfig.cmake")))
print("ideep.hpp beside torch headers:", os.path.exists(os.path.join(include, "ideep.hpp")), "| cxx11 abi:", torch.compiled_with_cxx11_abi())
PY
  for pkg in cmake-js node-addon-api node-api-headers; do
    if [ -d node_modules/$pkg ]; then echo "node_modules/$pkg: present"; else echo "node_modules/$pkg: not in this pack"; fi
  done' "$PYTHON"

if [ "${TRY_TORCH_BUILD:-0}" = 1 ]; then
  step torch-build 300 bash -c 'TORCH_CMAKE_PREFIX=$("$0" -c "import torch; print(torch.utils.cmake_prefix_path)") \
    node packages/tfjs-backend-torch/scripts/build-native.mjs --required' "$PYTHON"
fi

log "done; files in $OUT: $(ls "$OUT" | tr '\n' ' ')"
