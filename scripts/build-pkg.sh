#!/usr/bin/env bash
# Builds the npm package into pkg/: the wasm (release, size-optimised) and its
# wasm-bindgen glue, the JS entries from js/ and the files from pkg-template/.
set -euo pipefail
cd "$(dirname "$0")/.."

wasm-pack build --release --target web --no-pack --out-dir pkg --out-name emedia_wasm
cp js/index.js js/index.d.ts pkg/
cp pkg-template/package.json pkg/
cp README.md pkg/README.md
rm -f pkg/.gitignore
echo "pkg/ built: $(du -b pkg/emedia_wasm_bg.wasm | cut -f1) bytes of wasm, $(gzip -9c pkg/emedia_wasm_bg.wasm | wc -c) gzipped"
