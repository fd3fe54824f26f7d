#!/usr/bin/env python3
"""Draws the soak's figures (docs/soak.md) from the CSV files StreamingJobSoak writes.

    python3 docs/soak/plot.py jobs/target/soak docs/soak/soak.png

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
    samples = [(float(r["seconds"]), int(r["completions"])) for r in read(f"{source}/throughput.csv")]
    # Completions per second over a sliding 10 s window: commits arrive in bursts, one per checkpoint.
    rate_t, rate = [], []
    for i, (t, n) in enumerate(samples):
        j = i
        while j > 0 and samples[j - 1][0] > t - 10:
            j -= 1
        if t - samples[j][0] >= 5:
            rate_t.append(t)
            rate.append((n - samples[j][1]) / (t - samples[j][0]))
    memory = defaultdict(list)
    for r in read(f"{source}/memory.csv"):
        memory[r["taskmanager"]].append((int(r["completions"]), float(r["rss_mib"]), float(r["heap_after_gc_mib"])))

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7))
    top.plot(rate_t, rate, color="tab:blue")
    top.set_xlabel("seconds since the job ran")
    top.set_ylabel("committed completions / s (10 s window)")
    top.set_title("Soak: 10,000 requests, streaming job G=2 S=2 on two TaskManagers")
    top.grid(alpha=0.3)
    for tm, rows in sorted(memory.items()):
        xs = [r[0] for r in rows]
        bottom.plot(xs, [r[1] for r in rows], marker="o", label=f"{tm} resident set")
        bottom.plot(xs, [r[2] for r in rows], marker="s", linestyle="--", label=f"{tm} heap after GC")
    bottom.set_xlabel("committed completions")
    bottom.set_ylabel("MiB")
    bottom.set_ylim(bottom=0)
    bottom.grid(alpha=0.3)
    bottom.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(target, dpi=100)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
