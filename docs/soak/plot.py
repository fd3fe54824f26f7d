#!/usr/bin/env python3
"""Draws the soak's figures (docs/soak.md) from the CSV files StreamingJobSoak writes.

    /usr/bin/python3 docs/soak/plot.py jobs/target/soak docs/soak/soak.png

Needs matplotlib (Debian: apt-get install python3-matplotlib).
"""
import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def main(source, target):
    rows = read(f"{source}/throughput.csv")
    samples = sorted({(float(r["seconds"]), int(r["completions"])) for r in rows})
    resident = defaultdict(list)
    for r in rows:
        resident[r["taskmanager"]].append((float(r["seconds"]), float(r["rss_mib"])))
    # Completions per second over a sliding 10 s window: commits arrive in bursts, one per checkpoint.
    rate_t, rate = [], []
    for i, (t, n) in enumerate(samples):
        j = i
        while j > 0 and samples[j - 1][0] > t - 10:
            j -= 1
        if t - samples[j][0] >= 5:
            rate_t.append(t)
            rate.append((n - samples[j][1]) / (t - samples[j][0]))
    heap = defaultdict(list)
    for r in read(f"{source}/memory.csv"):
        heap[r["taskmanager"]].append((float(r["seconds"]), float(r["heap_after_gc_mib"]), int(r["completions"])))

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7))
    top.plot(rate_t, rate, color="tab:blue")
    top.set_xlabel("seconds since the job ran")
    top.set_ylabel("committed completions / s (10 s window)")
    top.set_title("Soak: 10,000 requests, streaming job G=2 S=2 on two TaskManagers")
    top.grid(alpha=0.3)
    for tm in sorted(resident):
        line = bottom.plot([t for t, _ in resident[tm]], [m for _, m in resident[tm]], label=f"{tm} resident set")
        points = heap[tm]
        bottom.plot([t for t, _, _ in points], [m for _, m, _ in points], marker="s", linestyle="none",
                    color=line[0].get_color(), label=f"{tm} heap after GC (at 1k and 10k)")
    bottom.set_xlabel("seconds since the job ran")
    bottom.set_ylabel("MiB")
    bottom.set_ylim(bottom=0)
    bottom.grid(alpha=0.3)
    bottom.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(target, dpi=100)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
