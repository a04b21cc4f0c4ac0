#!/usr/bin/env bash
# Builds the npm package into pkg/: the wasm (profile `wasm`: size-optimised, then
# wasm-opt -Oz) and its wasm-bindgen glue, the ESM entry (js/), the CommonJS and
# mini-program entry (js/miniprogram/ + the glue made CommonJS) and the files from
# pkg-template/.
#
# The wasm is built with the nightly toolchain when it has rust-src (install-deps.sh
# adds it): the standard library is rebuilt with panics that abort at once, without
# formatting a message, and without panic locations — about 12 KB gzipped less (see
# BENCHMARKS.md, size budget). Without nightly, or with EMEDIA_STABLE_WASM=1, the
# same code is built with stable Rust and its usual panic machinery (a panic is then
# logged with its message).
set -euo pipefail
cd "$(dirname "$0")/.."

target=wasm32-unknown-unknown
nightly_ready() {
  [[ "${EMEDIA_STABLE_WASM:-}" != 1 ]] \
    && rustup toolchain list 2>/dev/null | grep -q '^nightly' \
    && rustup +nightly component list --installed 2>/dev/null | grep -q '^rust-src'
}
if nightly_ready; then
  echo "building the wasm with nightly (std rebuilt: immediate-abort panics)"
  # Its own target dir: these flags would otherwise rebuild the stable artifacts
  # that clippy and wasm-pack test use.
  RUSTFLAGS="-Zlocation-detail=none -Zunstable-options -Cpanic=immediate-abort" \
    cargo +nightly build -Zbuild-std=std,panic_abort --profile wasm --target $target \
    -p emedia --target-dir target/wasm-nightly
  wasm=target/wasm-nightly/$target/wasm/emedia.wasm
else
  echo "WARNING: building the wasm with stable Rust: no nightly toolchain with rust-src" \
    "(or EMEDIA_STABLE_WASM=1); the package is ~12 KB gzipped bigger, over the 100 KB budget" >&2
  cargo build --profile wasm --target $target -p emedia
  wasm=target/$target/wasm/emedia.wasm
fi
mkdir -p pkg
wasm-bindgen --target web --out-dir pkg --out-name emedia_wasm "$wasm"
# wasm-opt from binaryen's npm package (tools/): no download at build time. The
# features are the ones rustc's wasm32 target emits by default.
tools/node_modules/.bin/wasm-opt -Oz \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  pkg/emedia_wasm_bg.wasm -o pkg/emedia_wasm_bg.wasm
node scripts/strip-glue-docs.mjs pkg/emedia_wasm.js
cp js/index.d.ts pkg/
# The CommonJS / mini-program entry: its own folder (WeChat's npm build copies the
# folder named by package.json "miniprogram", wasm included).
mkdir -p pkg/miniprogram
cp js/miniprogram/*.js js/miniprogram/package.json pkg/miniprogram/
node scripts/glue-cjs.mjs pkg/emedia_wasm.js pkg/miniprogram/emedia_wasm.js
cp pkg/emedia_wasm_bg.wasm pkg/miniprogram/
# What a browser page loads is minified (esbuild from tools/: −1.9 KB gzipped, see
# BENCHMARKS.md); the readable sources are js/ and the glue wasm-bindgen writes.
esbuild=tools/node_modules/.bin/esbuild
$esbuild pkg/emedia_wasm.js --minify --log-level=warning --allow-overwrite --outfile=pkg/emedia_wasm.js
$esbuild js/index.js --minify --log-level=warning --outfile=pkg/index.js
cp pkg-template/package.json pkg/
cp README.md pkg/README.md
rm -f pkg/.gitignore
node scripts/bench-size.mjs pkg
