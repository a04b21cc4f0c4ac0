#!/usr/bin/env bash
# Runs a command against a release emedia-server on a free loopback port, with the
# npm package built: what the benchmarks share. The command sees the server's base
# URL in EMEDIA_TEST_SERVER.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build-pkg.sh >/dev/null
cargo build -q --release -p emedia-server
log=$(mktemp)
./target/release/emedia-server --listen 127.0.0.1:0 --demo-dir demo --pkg-dir pkg >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
EMEDIA_TEST_SERVER=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -1)
export EMEDIA_TEST_SERVER
"$@"
