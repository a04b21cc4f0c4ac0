#!/usr/bin/env bash
# The standard signaling load runs (BENCHMARKS.md, "Load"): 200 clients joining one
# conference at once, and a LIVE conference filling with 10,000 audience members,
# against a release server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/load.sh --release joins --clients 200 -- live --audience 10000
