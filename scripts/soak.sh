#!/usr/bin/env bash
# Signaling soak: 1000 clients join and leave 50 rooms at random for 60 s against a
# release build of the server on loopback, then every roster is checked against the
# server's and every membership event is accounted for (server/tests/churn.rs).
# Prints joins, exits, events checked and request latencies. Scale with CHURN_CLIENTS,
# CHURN_CONFERENCES, CHURN_SECS; vary with CHURN_SEED.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each client is two sockets in this one process (its end and the server's).
want_files=8192
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want_files" ]; then
  ulimit -n "$want_files" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi

export CHURN_CLIENTS="${CHURN_CLIENTS:-1000}"
export CHURN_CONFERENCES="${CHURN_CONFERENCES:-50}"
export CHURN_SECS="${CHURN_SECS:-60}"
echo "== soak: $CHURN_CLIENTS clients, $CHURN_CONFERENCES rooms, $CHURN_SECS s (open files: $(ulimit -n))"
cargo test --release -p emedia-server --test churn -- --nocapture
