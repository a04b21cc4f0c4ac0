#!/usr/bin/env bash
# Builds the npm package into pkg/: the wasm (profile `wasm`: size-optimised, then
# wasm-opt -Oz) and its wasm-bindgen glue, the ESM entry (js/), the CommonJS and
# mini-program entry (js/miniprogram/ + the glue made CommonJS) and the files from
# pkg-template/.
set -euo pipefail
cd "$(dirname "$0")/.."

wasm-pack build --profile wasm --no-opt --target web --no-pack --out-dir pkg --out-name emedia_wasm
# wasm-pack's own wasm-opt download fails here; binaryen comes from npm (tools/).
# The features are the ones rustc's wasm32 target emits by default.
tools/node_modules/.bin/wasm-opt -Oz \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  pkg/emedia_wasm_bg.wasm -o pkg/emedia_wasm_bg.wasm
node scripts/strip-glue-docs.mjs pkg/emedia_wasm.js
cp js/index.js js/index.d.ts pkg/
# The CommonJS / mini-program entry: its own folder (WeChat's npm build copies the
# folder named by package.json "miniprogram", wasm included).
mkdir -p pkg/miniprogram
cp js/miniprogram/*.js js/miniprogram/package.json pkg/miniprogram/
node scripts/glue-cjs.mjs pkg/emedia_wasm.js pkg/miniprogram/emedia_wasm.js
cp pkg/emedia_wasm_bg.wasm pkg/miniprogram/
cp pkg-template/package.json pkg/
cp README.md pkg/README.md
rm -f pkg/.gitignore
node scripts/bench-size.mjs pkg
