#!/usr/bin/env bash
# Installs what building and testing need on a fresh Debian machine; quick when
# everything is already there. `--build-only` skips the browser and npm parts.
set -euo pipefail
cd "$(dirname "$0")/.."

build_only=false
[[ "${1:-}" == "--build-only" ]] && build_only=true

need_root() { if [[ $(id -u) -ne 0 ]]; then echo sudo; fi; }

rustup target list --installed | grep -qx wasm32-unknown-unknown \
  || rustup target add wasm32-unknown-unknown

# The package's wasm is built with nightly and std rebuilt for size (build-pkg.sh),
# which needs nightly's rust-src; without it the package is built with stable.
# Fuzzing needs nightly too (fuzz.sh).
rustup toolchain list | grep -q '^nightly' \
  || rustup toolchain install nightly --profile minimal --component rust-src \
  || echo "WARNING: no nightly toolchain: the package will be built with stable" >&2
if rustup toolchain list | grep -q '^nightly' \
  && ! rustup +nightly component list --installed | grep -q '^rust-src'; then
  rustup +nightly component add rust-src \
    || echo "WARNING: no rust-src for nightly: the package will be built with stable" >&2
fi

command -v wasm-pack >/dev/null || cargo install wasm-pack

# wasm-pack would download wasm-bindgen, which fails here: install exactly the
# version Cargo.lock pins (read from the lock file, so it lives in one place).
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [[ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]]; then
  cargo install wasm-bindgen-cli --version "$wb_version"
fi

# wasm-opt for the release wasm (binaryen from npm, pinned in tools/package-lock.json).
(cd tools && npm ci --no-audit --no-fund --loglevel=error)

$build_only && exit 0

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  $(need_root) apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $(need_root) apt-get install -y -qq chromium chromium-driver
fi

# The mini-program RTMP test: nginx with its rtmp module, and ffmpeg.
if ! command -v nginx >/dev/null || ! command -v ffmpeg >/dev/null \
  || [[ ! -f /usr/lib/nginx/modules/ngx_rtmp_module.so ]]; then
  $(need_root) apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $(need_root) apt-get install -y -qq nginx-light libnginx-mod-rtmp ffmpeg
fi

for dir in tests/e2e tests/types tests/vite-app tests/miniprogram; do
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
done
