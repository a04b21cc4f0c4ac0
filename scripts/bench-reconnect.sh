#!/usr/bin/env bash
# Benchmark: a page offline for 3 s, then online; time from the browser's `online`
# event to onReconnected, median over RUNS outages (default 9), against a release
# server on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
export RECONNECT_RUNS="${RUNS:-9}"
exec scripts/with-release-server.sh bash -c 'cd tests/e2e && node --test reconnect.test.mjs'
