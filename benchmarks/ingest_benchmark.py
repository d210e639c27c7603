"""Ingest benchmark: governed ingest vs a plain DuckDB read of the same files.

    python benchmarks/ingest_benchmark.py HOME [--memory-limit 2GB] [--threads 2]

HOME must hold landing files (e.g. from `opsledger generate`). Nothing is
copied: the floor reads the files into a scratch database, and the ingest runs
in a scratch home whose `landing` is a symlink to HOME/landing, so it always
starts from an empty raw database. Each side runs in its own child process so
its peak RSS and CPU time (user + system, from os.wait4's rusage) can be
measured; on a shared machine CPU seconds compare better than wall seconds. The
floor and the ingest run back to back.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FLOOR = r"""
import json, sys, time
from pathlib import Path
import duckdb
landing, db, memory, threads = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
con = duckdb.connect(db)
con.execute(f"SET memory_limit = '{memory}'")
con.execute(f"SET threads = {threads}")
start = time.perf_counter()
rows = 0
for i, path in enumerate(sorted(p for p in landing.rglob("*") if p.is_file())):
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".parquet"):
        reader = "read_parquet(?)"
    elif name.endswith((".jsonl", ".ndjson", ".json")):
        reader = "read_json(?, ignore_errors = true)"
    elif name.endswith(".csv"):
        reader = "read_csv(?, ignore_errors = true)"
    else:
        continue
    try:
        con.execute(f"CREATE TABLE t{i} AS SELECT * FROM {reader}", [str(path)])
    except duckdb.Error:
        continue  # the floor only needs the readable files
    rows += con.execute(f"SELECT count(*) FROM t{i}").fetchone()[0]
print(json.dumps({"seconds": time.perf_counter() - start, "rows": rows}))
"""

INGEST = r"""
import json, sys, time
from opsledger.ingest.pipeline import run_ingest
home, memory, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
start = time.perf_counter()
s = run_ingest(home, memory_limit=memory, threads=threads)
print(json.dumps({"seconds": time.perf_counter() - start, "rows": s.rows_read,
                  "loaded": s.loaded, "duplicates": s.duplicates,
                  "quarantined": s.quarantined, "files": s.files}))
"""


def _child(code: str, *args: str) -> dict:
    """Run code in a child process; return its JSON output plus peak RSS (MB)."""
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            cwd=ROOT,
            stdout=out,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"benchmark child failed with exit code {proc.returncode}")
        out.seek(0)
        result = json.loads(out.read().strip().splitlines()[-1])
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)  # Linux: KiB
    result["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
    return result


def measure_ingest(home: Path | str, memory_limit: str = "2GB", threads: int = 2) -> dict:
    """Time the floor (plain DuckDB reads) and run_ingest over home/landing."""
    landing = Path(home).resolve() / "landing"
    if not landing.is_dir():
        raise FileNotFoundError(f"no landing folder in {home}")
    with tempfile.TemporaryDirectory(prefix="opsledger-bench-") as scratch:
        floor = _child(FLOOR, str(landing), f"{scratch}/floor.duckdb", memory_limit, str(threads))
        bench_home = Path(scratch) / "home"
        bench_home.mkdir()
        (bench_home / "landing").symlink_to(landing, target_is_directory=True)
        ingest = _child(INGEST, str(bench_home), memory_limit, str(threads))
    for r in (floor, ingest):
        r["rows_per_second"] = round(r["rows"] / r["seconds"]) if r["seconds"] else None
        r["seconds"] = round(r["seconds"], 2)
    return {
        "floor": floor,
        "ingest": ingest,
        "ratio": round(ingest["seconds"] / floor["seconds"], 2) if floor["seconds"] else None,
        "cpu_ratio": (
            round(ingest["cpu_seconds"] / floor["cpu_seconds"], 2) if floor["cpu_seconds"] else None
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure_ingest(args.home, args.memory_limit, args.threads)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{'run':<8} {'seconds':>9} {'cpu s':>9} {'rows':>11} {'rows/s':>11} {'peak RSS MB':>12}")
    for name in ("floor", "ingest"):
        r = result[name]
        print(
            f"{name:<8} {r['seconds']:>9.2f} {r['cpu_seconds']:>9.2f} {r['rows']:>11,} "
            f"{r['rows_per_second'] or 0:>11,} {r['peak_rss_mb']:>12,.0f}"
        )
    print(f"ingest / floor: {result['ratio']}x wall, {result['cpu_ratio']}x cpu")


if __name__ == "__main__":
    main()
