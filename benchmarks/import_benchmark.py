"""Import benchmark: `opsledger import orders` beside a plain DuckDB read of the same file.

    python benchmarks/import_benchmark.py [FILE] [--mapping M] [--threads 2] [--memory-limit 2GB]

FILE defaults to the Online Retail acceptance file. Each side runs in its own
child process (a fresh scratch home for the import), so peak RSS and CPU time
(user + system, from os.wait4's rusage) are measured per side; on a shared
machine CPU seconds compare better than wall seconds. Prints one JSON object.
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
DEFAULT_FILE = Path("/work/shared/datasets/online_retail/online_retail.csv.gz")
DEFAULT_MAPPING = ROOT / "mappings" / "online_retail.yml"

FLOOR = r"""
import json, sys, time
import duckdb
path, threads, memory = sys.argv[1], int(sys.argv[2]), sys.argv[3]
con = duckdb.connect()
con.execute(f"SET threads = {threads}; SET memory_limit = '{memory}'")
start = time.perf_counter()
(rows,) = con.execute(
    "SELECT count(*) FROM (SELECT * FROM read_csv(?, header = true, all_varchar = true))"
    if not path.endswith(".parquet") else "SELECT count(*) FROM read_parquet(?)", [path]
).fetchone()
print(json.dumps({"rows": rows, "seconds": time.perf_counter() - start}))
"""

IMPORT = r"""
import json, sys, time
from opsledger.importers import import_orders
path, mapping, home, threads, memory = sys.argv[1:6]
start = time.perf_counter()
s = import_orders(home, path, mapping, memory_limit=memory, threads=int(threads))
d = s.to_dict()
print(json.dumps({"rows": d["rows_read"], "events": d["events_total"],
                  "seconds": time.perf_counter() - start, "reconciles": d["reconciles"]}))
"""


def _run(code: str, *args: str) -> dict:
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, cwd=ROOT, text=True
    )
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"child failed with status {status}")
    result = json.loads(out.strip().splitlines()[-1])
    result["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)  # Linux: KiB
    result["seconds"] = round(result["seconds"], 2)
    result["rows_per_second"] = (
        round(result["rows"] / result["seconds"]) if result["seconds"] else None
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--mapping", type=Path, default=DEFAULT_MAPPING)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="2GB")
    args = parser.parse_args()
    floor = _run(FLOOR, str(args.file), str(args.threads), args.memory_limit)
    with tempfile.TemporaryDirectory(prefix="import-bench-") as home:
        imp = _run(
            IMPORT, str(args.file), str(args.mapping), home, str(args.threads), args.memory_limit
        )
    print(
        json.dumps(
            {
                "file": str(args.file),
                "load_average": os.getloadavg(),
                "duckdb_read_csv": floor,
                "import": imp,
                "import_vs_floor": round(imp["seconds"] / floor["seconds"], 1),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
