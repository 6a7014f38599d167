#!/usr/bin/env python3
"""Bar chart of packets per second per transport from bench-results.json (run-bench.sh calls it)."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

src = sys.argv[1] if len(sys.argv) > 1 else "bench-results.json"
dst = sys.argv[2] if len(sys.argv) > 2 else "bench-results.png"
rows = json.load(open(src))
order = ["xdp_drop", "kernel", "nio", "epoll", "io_uring", "xdp_skb", "xdp_drv"]
rows = [r for r in rows if r.get("queues", 1) == 1 and r.get("placement", "A") == "A" and r["pps"] is not None
        and r["workload"] in ("rx", "echo")]
series = sorted({(r["workload"], r["payload"]) for r in rows}, key=lambda s: (s[0] != "rx", s[1]))
transports = [t for t in order if any(r["transport"] == t for r in rows)]

fig, ax = plt.subplots(figsize=(11, 5.5))
width = 0.8 / max(1, len(series))
for i, (workload, payload) in enumerate(series):
    xs, ys = [], []
    for j, t in enumerate(transports):
        match = [r for r in rows if r["transport"] == t and r["workload"] == workload and r["payload"] == payload]
        if match:
            xs.append(j + (i - (len(series) - 1) / 2) * width)
            ys.append(match[0]["pps"] / 1e6)
    bars = ax.bar(xs, ys, width, label=f"{workload} {payload} B")
    for b, y in zip(bars, ys):
        ax.annotate(f"{y:.2f}", (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom", fontsize=7)
ax.set_xticks(range(len(transports)))
ax.set_xticklabels(transports)
ax.set_ylabel("million packets per second")
ax.set_title("netty-xdp: UDP RX sink and echo over veth, one event loop thread (2-core VM; xdp_drop, kernel = ceilings)")
ax.legend()
ax.grid(axis="y", alpha=0.3)
fig.tight_layout()
fig.savefig(dst, dpi=110)
print(f"wrote {dst}")
