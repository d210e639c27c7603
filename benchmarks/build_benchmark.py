"""Warehouse benchmark: full refresh, then an incremental refresh after ~1% more events.

    python -m benchmarks.build_benchmark --scale 1 [--seed 1] [--home DIR]
                                         [--append newest|backdated]
                                         [--engine duckdb|spark]

Generates scale S, runs `opsledger refresh` (ingest, dbt build, gate, publish)
in a child process, then delivers 1% more events and refreshes again: the
incremental run. `newest` (the default) holds back the newest 1% of the
generated events (all sources, the last days of the year) and delivers them
after the full build, as the source systems would; `backdated` delivers extra
quality-check moves backdated across the whole year, the worst case. Prints
per-stage seconds, CPU seconds and peak RSS of each run, and beside them the plain DuckDB floor: one SQL statement
computing on-hand per SKU x node x state from the raw events.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import timedelta
from pathlib import Path

import duckdb

from benchmarks.hold_back import deliver_held_back, hold_back_newest
from benchmarks.ingest_benchmark import _child

SHARE = 0.01  # of the events, appended for the incremental run

GENERATE = r"""
import json, sys
from opsledger.ingest.simulator import generate
s = generate(sys.argv[1], scale=float(sys.argv[2]), seed=int(sys.argv[3]))
print(json.dumps({"events": s["events_total"]}))
"""

REFRESH = r"""
import json, sys, time
from opsledger.refresh import run_refresh
start = time.perf_counter()
r = run_refresh(sys.argv[1], engine=sys.argv[2])
print(json.dumps({"seconds": time.perf_counter() - start, "status": r.status,
                  "timings": r.timings, "loaded": r.ingest.get("loaded")}))
"""

FLOOR = r"""
import json, sys, time
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
start = time.perf_counter()
rows = con.execute('''
    with legs as (
        select sku, node_id, from_state as state, -quantity as q from raw.stock_events
        where quantity is not null and from_state is not null
        union all
        select sku, coalesce(to_node_id, node_id), to_state, quantity from raw.stock_events
        where quantity is not null and to_state is not null
        union all
        select sku, node_id, from_state, -quantity from raw.returns_events where from_state is not null
        union all
        select sku, node_id, to_state, quantity from raw.returns_events where to_state is not null
    )
    select count(*) from (select sku, node_id, state, sum(q) from legs group by all)
''').fetchone()[0]
print(json.dumps({"seconds": time.perf_counter() - start, "rows": rows}))
"""


def _landing_events(home: Path) -> int:
    """Events of a home generated earlier: the simulator's own count."""
    totals = json.loads((home / "ground_truth" / "totals.json").read_text(encoding="utf-8"))
    return int(totals["events_true_total"])


def _append_late_events(home: Path, share: float) -> int:
    """Deliver `share` of the events again as late, invariant-keeping stock events:
    right after a receipt into available, a quality check moves the units to
    quality_hold and back. They are backdated across the whole year, so the
    incremental build must recompute history, the expensive case."""
    raw = duckdb.connect(str(home / "raw.duckdb"), read_only=True)
    try:
        raw.execute("use raw.raw")
        total = sum(
            raw.execute(f"select count(*) from {t}").fetchone()[0]
            for (t,) in raw.execute(
                "select table_name from duckdb_tables() where table_name like '%_events'"
            ).fetchall()
        )
        pairs = max(1, int(total * share / 2))
        receipts = raw.execute(
            "select event_id, event_time, node_id, sku, quantity from stock_events "
            "where event_type = 'po_receipt' and to_state = 'available' "
            "order by hash(event_id) limit ?",
            [pairs],
        ).fetchall()
    finally:
        raw.close()
    target = home / "landing" / "stock" / "zz-late-quality-checks.csv"
    with target.open("w", encoding="utf-8") as out:
        out.write(
            "event_id,event_type,event_time,source,node_id,sku,quantity,from_state,to_state\n"
        )
        for event_id, event_time, node, sku, qty in receipts:
            for step, (src, dst) in enumerate(
                (("available", "quality_hold"), ("quality_hold", "available"))
            ):
                at = (event_time + timedelta(seconds=1 + step)).isoformat()
                out.write(
                    f"qc-{event_id}-{step},status_change,{at},wms-qc,{node},{sku},{qty},{src},{dst}\n"
                )
    return 2 * len(receipts)


def run(
    home: Path,
    scale: float,
    seed: int,
    generated_already: bool = False,
    append: str = "newest",
    engine: str = "duckdb",
) -> dict:
    if generated_already:  # landing files from an earlier `opsledger generate`
        generated = {"events": None}
    else:
        generated = _child(GENERATE, str(home), str(scale), str(seed))
    held = None
    if append == "newest":
        total = generated["events"] or _landing_events(home)
        held = hold_back_newest(home, SHARE, total)
    full = _child(REFRESH, str(home), engine)
    generated["events"] = generated["events"] or full["loaded"]
    floor = _child(FLOOR, str(home / "warehouse.duckdb"))
    if held is not None:
        deliver_held_back(home)
        late_rows = held["held_back"]
    else:
        late_rows = _append_late_events(home, SHARE)
    incremental = _child(REFRESH, str(home), engine)
    size_mb = round((home / "warehouse.duckdb").stat().st_size / 1e6, 1)
    return {
        "scale": scale,
        "engine": engine,
        "events": generated["events"],
        "append": append,
        "appended_rows": late_rows,
        "held_back_cutoff": held["cutoff"] if held else None,
        "full": full,
        "incremental": incremental,
        "floor_on_hand_sql": floor,
        "warehouse_mb": size_mb,
        "incremental_over_full": round(incremental["seconds"] / full["seconds"], 3),
        "incremental_build_over_full_build": round(
            incremental["timings"]["dbt_build"] / full["timings"]["dbt_build"], 3
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument(
        "--generated",
        action="store_true",
        help="--home already holds generated landing files (and nothing ingested): skip generate",
    )
    parser.add_argument("--append", choices=("newest", "backdated"), default="newest")
    parser.add_argument(
        "--engine", choices=("duckdb", "spark"), default="duckdb", help="what builds (issue 22)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="opsledger-build-") as scratch:
        home = args.home or Path(scratch)
        result = run(
            home,
            args.scale,
            args.seed,
            args.generated and args.home is not None,
            args.append,
            args.engine,
        )
    print(json.dumps(result, indent=2))
    for name in ("full", "incremental"):
        r = result[name]
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in r["timings"].items())
        print(
            f"{name:<12} {r['status']:<10} {r['seconds']:7.1f} s  cpu {r['cpu_seconds']:7.1f} s  "
            f"peak RSS {r['peak_rss_mb']:,.0f} MB  [{stages}]"
        )
    f = result["floor_on_hand_sql"]
    print(f"floor        plain DuckDB on-hand SQL {f['seconds']:.2f} s ({f['rows']:,} rows)")
    print(
        f"incremental / full: {result['incremental_over_full']}x refresh, "
        f"{result['incremental_build_over_full_build']}x dbt build; "
        f"warehouse {result['warehouse_mb']} MB"
    )


if __name__ == "__main__":
    main()
