#!/usr/bin/env bash
# The standard load runs (BENCHMARKS.md, "Load"), against a release emedia-server and,
# for the media scenarios, against Janus 1.1's VideoRoom in the same run:
#   - 200 clients joining one conference at once (emedia)
#   - a LIVE conference filling with 10,000 audience members (emedia)
#   - one 1.5 Mbit/s VP8 + Opus publisher fanned out to 1, 10, 25, 50 and 100
#     subscribers (both servers)
#   - 10 conferences of 4 members all publishing and subscribing (both servers)
# Prints every run's JSON line, a comparison table, and writes
# benchmarks/cpu-vs-subscribers.png (server CPU against subscribers, both servers).
# Janus gathers no loopback ICE candidates, so the media runs of both servers use the
# host's own address (the traffic never leaves the machine).
set -euo pipefail
cd "$(dirname "$0")/.."
need_root() { if [[ $(id -u) -ne 0 ]]; then echo sudo; fi; }
if ! command -v janus >/dev/null || ! command -v gnuplot >/dev/null; then
  $(need_root) apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $(need_root) apt-get install -y -qq janus gnuplot-nox
fi
cargo build -q --release -p emedia-server -p emedia-load
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

ip=$(ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -1)
[[ -n "$ip" ]] || { echo "no non-loopback IPv4 address for the media runs"; exit 1; }
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

secret="bench-$(date +%s%N)-padding-to-thirty-two-bytes"
./target/release/emedia-server --listen 127.0.0.1:0 --app-secret "$secret" \
  --rtc-listen "$ip:0" --max-connections-per-ip 100000 --max-members 100000 \
  >"$work/emedia.log" 2>&1 &
emedia_pid=$!
pids+=("$emedia_pid")
for _ in $(seq 1 100); do grep -q "listening on" "$work/emedia.log" && break; sleep 0.1; done
server=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/emedia.log" | head -1)

janus_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
for f in load/janus/*.jcfg; do
  sed -e "s|@HTTP_PORT@|$janus_port|" -e "s|@CONFIG_DIR@|$work|" "$f" >"$work/$(basename "$f")"
done
janus -F "$work" -C "$work/janus.jcfg" >"$work/janus.log" 2>&1 &
janus_pid=$!
pids+=("$janus_pid")
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$janus_port/janus/info" && break
  sleep 0.1
done

results="$work/results.jsonl"
# Each run's table is shown; its JSON line is kept for the comparison.
record() {
  local out
  out=$("$@")
  echo "$out"
  tail -1 <<<"$out" >>"$results"
}
emedia() {
  record ./target/release/emedia-load --server "$server" --app-secret "$secret" \
    --server-pid "$emedia_pid" "$@"
}
janus_run() {
  record ./target/release/emedia-load --janus "http://127.0.0.1:$janus_port/janus" \
    --server-pid "$janus_pid" --media-ip "$ip" "$@"
}

emedia joins --clients 200 --storms 5
emedia live --audience 10000
for n in 1 10 25 50 100 200; do
  emedia --media-ip "$ip" media --subscribers "$n" --secs 10
  janus_run media --subscribers "$n" --secs 10
done
emedia --media-ip "$ip" media --conferences 10 --publishers 4 --subscribers 0 --mesh --secs 10
janus_run media --conferences 10 --publishers 4 --subscribers 0 --mesh --secs 10

mkdir -p benchmarks
python3 scripts/bench-load-report.py "$results" "$work/plot.dat"
gnuplot -e "datafile='$work/plot.dat'; outfile='benchmarks/cpu-vs-subscribers.png'" scripts/bench-load.gp
echo "plot: benchmarks/cpu-vs-subscribers.png"
