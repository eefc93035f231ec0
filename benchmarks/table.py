"""Print the Markdown table of benchmarks/README.md from a record of a benchmark run.

    TRIALREPORT_BENCH_RECORD=run.jsonl uv run --frozen pytest benchmarks -s
    uv run --frozen python benchmarks/table.py run.jsonl
"""

from __future__ import annotations

import json
import sys


def main(path: str) -> None:
    with open(path, encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    print("| stage | subjects | time: stage / floor | ratio (bound) | peak memory: stage / floor "
          "| ratio (bound) | within bounds |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        ok = r["time_ratio"] <= r["time_bound"] and r["memory_ratio"] <= r["memory_bound"]
        print(f"| {r['stage']} | {r['subjects']} | {r['time_stage']:.2f} s / "
              f"{r['time_floor']:.2f} s | {r['time_ratio']:.2f} ({r['time_bound']:g}) | "
              f"{r['memory_stage'] / 2**20:.0f} MiB / {r['memory_floor'] / 2**20:.0f} MiB | "
              f"{r['memory_ratio']:.2f} ({r['memory_bound']:g}) | {'yes' if ok else 'NO'} |")


if __name__ == "__main__":
    main(sys.argv[1])
