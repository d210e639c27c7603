"""Foundation benchmark: generate scale S, then ingest it, beside the plain DuckDB floor.

    python benchmarks/foundation_benchmark.py [--scale 1] [--seed 1] [--home DIR]

Prints generation events/s and peak RSS, then the ingest benchmark (governed
ingest vs plain DuckDB reads of the same files, wall and CPU seconds, peak RSS).
Each step runs in a child process so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from benchmarks.ingest_benchmark import _child, measure_ingest

GENERATE = r"""
import json, sys, time
from opsledger.ingest.simulator import generate
home, scale, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
start = time.perf_counter()
summary = generate(home, scale=scale, seed=seed)
print(json.dumps({"seconds": time.perf_counter() - start, "events": summary["events_total"],
                  "files": summary["files"]}))
"""


def run(home: Path, scale: float, seed: int) -> dict:
    generated = _child(GENERATE, str(home), str(scale), str(seed))
    generated["events_per_second"] = round(generated["events"] / generated["seconds"])
    return {"scale": scale, "generate": generated, "ingest": measure_ingest(home)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="opsledger-foundation-") as scratch:
        result = run(args.home or Path(scratch), args.scale, args.seed)
    if args.json:
        print(json.dumps(result))
        return
    g = result["generate"]
    print(
        f"generate S={args.scale}: {g['events']:,} events in {g['seconds']:.1f} s "
        f"({g['events_per_second']:,} events/s, {g['cpu_seconds']} cpu s), "
        f"peak RSS {g['peak_rss_mb']:,.0f} MB, {g['files']} files"
    )
    print(f"{'run':<8} {'seconds':>9} {'cpu s':>9} {'rows':>11} {'rows/s':>11} {'peak RSS MB':>12}")
    for name in ("floor", "ingest"):
        r = result["ingest"][name]
        print(
            f"{name:<8} {r['seconds']:>9.2f} {r['cpu_seconds']:>9.2f} {r['rows']:>11,} "
            f"{r['rows_per_second'] or 0:>11,} {r['peak_rss_mb']:>12,.0f}"
        )
    ratio = result["ingest"]
    print(f"ingest / floor: {ratio['ratio']}x wall, {ratio['cpu_ratio']}x cpu")


if __name__ == "__main__":
    main()
