#!/usr/bin/env python3
"""Prints the median of every benchmark in a Google Benchmark JSON file and, for each pair named
"<case>/box..." and "<case>/host...", the ratio box/host (lower is better for LiteBox).

Single-threaded benchmarks compare CPU time (on a shared, noisy machine wall time also counts the
time the process was not running); benchmarks registered with UseRealTime (the multi-threaded
ones, whose threads may sleep) compare wall-clock time.
Usage: bench/ratios.py results.json"""
import json
import sys


def main(path):
    with open(path) as f:
        data = json.load(f)
    medians = {}
    unit = {}
    for b in data["benchmarks"]:
        if b.get("run_type") != "aggregate" or b.get("aggregate_name") != "median":
            continue
        name = b["run_name"]
        measure = "real_time" if "/real_time" in name else "cpu_time"
        medians[name] = b[measure]
        unit[name] = b["time_unit"]
    rows = []
    for name in medians:
        parts = name.split("/")
        if "box" not in parts:
            continue
        host = "/".join("host" if p == "box" else p for p in parts)
        if host not in medians:
            continue
        case = "/".join(p for p in parts if p != "box")
        rows.append((case, medians[name], medians[host], unit[name], medians[name] / medians[host]))
    print(f"{'benchmark (median of repetitions; CPU time unless real_time)':<58} {'box':>12} {'host':>12} {'box/host':>9}")
    for case, box, host, u, ratio in sorted(rows):
        print(f"{case:<58} {box:>9.1f} {u:<2} {host:>9.1f} {u:<2} {ratio:>8.2f}x")
    unpaired = [n for n in medians if "box" not in n.split("/") and "host" not in n.split("/")]
    for name in sorted(unpaired):
        print(f"{name:<58} {medians[name]:>9.1f} {unit[name]:<2}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
