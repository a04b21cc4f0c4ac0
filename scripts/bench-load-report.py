"""Reads emedia-load's JSON lines (scripts/bench-load.sh) and prints the side-by-side
table; writes the fan-out rows as gnuplot data (subscribers, CPU % emedia, CPU % Janus)."""
import json
import sys

runs = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
media = [r for r in runs if r["scenario"] == "media"]


def key(r):
    return (r["conferences"], r["publishers"], r["subscribers"], r["mesh"])


pairs = {}
for r in media:
    pairs.setdefault(key(r), {})[r["server"]] = r

print()
print("| shape | server | pkts/s | CPU µs/pkt | CPU % | delivered % | first pkt p50 ms | audio delay p50 / p99 ms | mem/peer KB |")
print("|---|---|---|---|---|---|---|---|---|")
for k, by in pairs.items():
    c, p, s, mesh = k
    shape = f"{c}×{p} mesh" if mesh else f"{c} conf, {p} pub → {s} sub"
    for name in ("emedia", "janus"):
        r = by.get(name)
        if r:
            print(f"| {shape} | {name} | {r['packets_per_sec']:.0f} | {r.get('server_cpu_us_per_packet', 0):.2f} "
                  f"| {r.get('server_cpu_percent', 0):.0f} | {r['delivered_percent']:.1f} | {r['first_packet_ms_p50']:.1f} "
                  f"| {r['audio_delay_ms_p50']:.1f} / {r['audio_delay_ms_p99']:.1f} "
                  f"| {r.get('server_bytes_per_peer', 0) / 1024:.0f} |")
    if "emedia" in by and "janus" in by:
        e, j = by["emedia"], by["janus"]
        ratio = j["server_cpu_us_per_packet"] / max(e["server_cpu_us_per_packet"], 1e-9)
        print(f"| {shape} | Janus ÷ emedia, CPU per packet | | **{ratio:.2f}×** | | | | | |")

with open(sys.argv[2], "w") as out:
    for k, by in sorted(pairs.items(), key=lambda kv: kv[0][2]):
        c, p, s, mesh = k
        if c == 1 and p == 1 and not mesh and "emedia" in by and "janus" in by:
            out.write(f"{s} {by['emedia']['server_cpu_percent']} {by['janus']['server_cpu_percent']}\n")
