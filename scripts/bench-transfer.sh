#!/usr/bin/env bash
# Data transfer over the signaling socket (issue 8): a 20 MiB sendBuffer between two
# members through the real server, and a third member's request round trip alone and
# while the transfer runs. Prints the medians and their ratio (BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release -q -p emedia-server --test interaction -- --ignored --nocapture bench_transfer 2>&1 \
  | grep -E '^(transfer|\{)'
