#!/usr/bin/env bash
# Runs emedia-load scenarios against an emedia-server of its own on a free loopback
# port: a known app secret (to mint tokens), limits raised for many clients from one
# address, and its pid passed on so the server's CPU time and memory are reported.
#
#   scripts/load.sh [--release] SCENARIO [OPTIONS] [-- SCENARIO [OPTIONS]]...
#   e.g. scripts/load.sh --release joins --clients 200 -- live --audience 10000
#
# `cargo run -p emedia-load -- --help` lists the scenarios and their options.
# EMEDIA_SERVER_BIN=path runs that server binary instead (before/after comparisons).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=debug
build=(cargo build -q -p emedia-server -p emedia-load)
if [[ "${1:-}" == --release ]]; then
  profile=release
  build+=(--release)
  shift
fi
"${build[@]}"
# Many sockets on both ends of loopback.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
secret="load-$(date +%s%N)-padding-to-thirty-two-bytes"
log=$(mktemp)
server_bin=${EMEDIA_SERVER_BIN:-./target/$profile/emedia-server}
"$server_bin" --listen 127.0.0.1:0 --app-secret "$secret" \
  --max-connections-per-ip 100000 --max-members 100000 >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
server=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -1)
[[ -n "$server" ]] || { cat "$log"; echo "server did not start"; exit 1; }

run() {
  "./target/$profile/emedia-load" --server "$server" --app-secret "$secret" --server-pid "$pid" "$@"
}
group=()
for arg in "$@"; do
  if [[ "$arg" == -- ]]; then
    run "${group[@]}"
    group=()
  else
    group+=("$arg")
  fi
done
[[ ${#group[@]} -eq 0 ]] || run "${group[@]}"
