#!/usr/bin/env bash
# Benchmark: a page offline for 3 s, then online; time from the browser's `online`
# event to onReconnected, median over RUNS outages (default 9), against a release
# server on loopback.
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
export EMEDIA_TEST_SERVER=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -1)
(cd tests/e2e && RECONNECT_RUNS="${RUNS:-9}" node --test reconnect.test.mjs)
