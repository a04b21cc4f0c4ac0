#!/usr/bin/env bash
# Benchmark: subStream() -> first decoded frame in headless Chromium against a release
# server on loopback. RUNS=N to change the number of subscriptions (default 25).
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/with-release-server.sh bash -c 'cd tests/e2e && node bench-ttff.mjs'
