#!/usr/bin/env bash
# Every test: installs what the tests need, then lint, native unit and integration
# tests, the browser tests of the wasm SDK (wasm-pack + Chromium) and the demo
# scenarios (Playwright + Chromium), against a real emedia-server on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== installing test dependencies"
scripts/install-deps.sh

echo "== format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets -q -- -D warnings
cargo clippy -p emedia --target wasm32-unknown-unknown --all-targets -q -- -D warnings

echo "== native tests (protocol, server core, server integration, SDK core)"
cargo test --workspace

echo "== load generator smoke (scripts/bench-load.sh runs the standard sizes)"
load_out=$(scripts/load.sh joins --clients 50 --storms 2 -- live --audience 300 -- media --subscribers 3 --secs 2)
echo "$load_out"
# Correctness only (no timing is asserted): every scenario ran, no join failed, and
# every subscriber received media, carrying the stamps the delay is measured by.
[[ $(grep -c '"failed":0' <<<"$load_out") -eq 2 ]] || { echo "load smoke: joins failed"; exit 1; }
grep -q '"talker_events":300' <<<"$load_out" || { echo "load smoke: the talker missed joins"; exit 1; }
grep -q '"silent_subscribers":0' <<<"$load_out" || { echo "load smoke: no media"; exit 1; }
grep -q '"audio_delay_ms_p50":[0-9.]*[1-9]' <<<"$load_out" || { echo "load smoke: no audio delay measured"; exit 1; }

echo "== fuzz smoke: 20,000 inputs per cargo-fuzz target (scripts/fuzz.sh runs 1,000,000)"
FUZZ_MAX_SECS=120 FUZZ_CMIN=0 scripts/fuzz.sh 20000

echo "== building the npm package"
scripts/build-pkg.sh

echo "== size budget (gzipped wasm + JS a browser app loads; fails above 100 KB)"
node scripts/bench-size.mjs pkg --limit-kb 100

echo "== TypeScript declarations (tsc on right and wrong use)"
(cd tests/types && npm test)

echo "== starting emedia-server (dev mode) on a free loopback port"
cargo build -q -p emedia-server
log=$(mktemp)
./target/debug/emedia-server --listen 127.0.0.1:0 --demo-dir demo --pkg-dir pkg >"$log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  grep -q "listening on" "$log" && break
  sleep 0.1
done
server=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -1)
[[ -n "$server" ]] || { cat "$log"; echo "server did not start"; exit 1; }
echo "server at $server"
export EMEDIA_TEST_SERVER="$server"

echo "== browser tests of the SDK (wasm-pack, headless Chromium)"
CHROMEDRIVER=/usr/bin/chromedriver wasm-pack test --headless --chrome --test browser

echo "== demo and media scenarios (Playwright, headless Chromium)"
(cd tests/e2e && npm test)

echo "== the packed npm package, require()d in a simulated WeChat mini-program runtime"
(cd tests/miniprogram && npm test)

echo "== the packed npm package in a Vite app (npm pack, vite build, Chromium)"
(cd tests/vite-app && node --test consumer.test.mjs)
