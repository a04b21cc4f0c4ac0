#!/usr/bin/env bash
# The standard load runs against a release server (BENCHMARKS.md, "Load"): 200
# clients joining one conference at once; a LIVE conference filling with 10,000
# audience members; one 1.5 Mbit/s VP8 + Opus publisher fanned out to 1, 10, 50 and
# 100 subscribers; 10 conferences of 4 members all publishing and subscribing.
set -euo pipefail
cd "$(dirname "$0")/.."
fanout=()
for n in 1 10 50 100; do
  fanout+=(-- media --subscribers "$n" --secs 10)
done
scripts/load.sh --release joins --clients 200 -- live --audience 10000 "${fanout[@]}" \
  -- media --conferences 10 --publishers 4 --subscribers 0 --mesh --secs 10
