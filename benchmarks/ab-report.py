#!/usr/bin/env python3
"""Aggregates run-ab.sh's runs: per row and side the median and min-max over rounds, and B/A of the medians.

usage: ab-report.py RESULTS_DIR LABEL_A LABEL_B
RESULTS_DIR holds one directory per run, named SIDE-transport_workload-ROUND, each with bench-results.json.
Only the 1-queue, 64-byte rows of each run are used, placement A and N (the latter labelled "@N").
"""
import json
import os
import statistics
import sys

results, label_a, label_b = sys.argv[1], sys.argv[2], sys.argv[3]
METRICS = {  # workload -> (json field, unit, higher is better)
    "rx": [("pps", "pps", True), ("loop_cpu_ns_per_packet", "ns/pkt", False), ("generator_pps", "offered", True),
           ("loop_cpu_wait_share", "cpu wait", False)],
    "echo": [("pps", "pps", True), ("loop_cpu_ns_per_packet", "ns/pkt", False), ("generator_pps", "offered", True),
             ("loop_cpu_wait_share", "cpu wait", False)],
    "latency": [("p50_us", "p50 us", False), ("p99_us", "p99 us", False)],
}
data = {}  # (row, field) -> side -> [values]
for d in sorted(os.listdir(results)):
    side, key, _round = d.split("-")
    path = os.path.join(results, d, "bench-results.json")
    if not os.path.exists(path):
        continue
    transport, workload = key.rsplit("_", 1)
    for r in json.load(open(path)):
        if (r["transport"], r["workload"]) != (transport, workload):
            continue
        if r["queues"] != 1 or r["placement"] not in ("A", "N") or r["payload"] != 64:
            continue
        label = transport + "/" + workload + ("" if r["placement"] == "A" else "@N")
        for field, unit, _ in METRICS[workload]:
            if r.get(field) is not None:
                data.setdefault((label, field, unit), {}).setdefault(side, []).append(r[field])


def fmt(v):
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}" if abs(v) < 1 else f"{v:.1f}"


print(f"A = {label_a.strip()}, B = {label_b.strip()}; median [min-max] over rounds, ratio = B/A of the medians")
print(f"{'row':<16} {'figure':<8} {'A median':>10} {'A min-max':>21} {'B median':>10} {'B min-max':>21} {'B/A':>6} n")
for (row, field, unit), sides in data.items():
    a = sides.get("A", [])
    b = sides.get("B", [])
    if not a or not b:
        continue
    ma, mb = statistics.median(a), statistics.median(b)
    ratio = mb / ma if ma else float("nan")
    print(f"{row:<18} {unit:<8} {fmt(ma):>10} {fmt(min(a)) + '-' + fmt(max(a)):>21} {fmt(mb):>10} "
          f"{fmt(min(b)) + '-' + fmt(max(b)):>21} {ratio:>6.2f} {len(a)}/{len(b)}")
