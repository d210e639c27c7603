"""Submit -> visible in the published warehouse, through the auto-refresh worker.

    python -m benchmarks.writeback_benchmark --home DIR [--debounce 1]

DIR holds a published warehouse (e.g. the one `benchmarks.build_benchmark --home DIR`
leaves behind). A benchmark user submits one stock adjustment (+1 unit, below the
approval threshold) exactly as the Submit page does, asks for a refresh as the page
does, and the real detached worker (opsledger/autorefresh.py) debounces and runs
`opsledger refresh`. Prints the seconds until the submission's event is in the
published warehouse, with the refresh's per-stage timings beside it.
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
from pathlib import Path

import duckdb

from opsledger import writeback as wb
from opsledger.autorefresh import request_refresh
from opsledger.writeback import warehouse as wb_warehouse

USER = "bench-lead"


def _candidate(home: Path) -> tuple[str, str]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        row = con.execute(
            "select sku, node_id from marts.fct_stock_on_hand "
            "where state = 'available' and quantity > 0 order by sku, node_id limit 1"
        ).fetchone()
    finally:
        con.close()
    if row is None:
        raise SystemExit("no available stock to adjust: is the warehouse published?")
    return row[0], row[1]


def run(home: Path, debounce: float, timeout: float) -> dict:
    if wb.get_user(home, USER) is None:
        wb.users_add(home, USER, "warehouse_lead", secrets.token_urlsafe(16))
    user = wb.get_user(home, USER)
    sku, node = _candidate(home)
    with wb_warehouse.read(home) as con:  # warm-up: the app has these modules loaded
        wb_warehouse.sku_info(con, sku)
    started = time.perf_counter()
    sub = wb.submit_adjustment(
        home, user, wb.open_form(home), sku=sku, node_id=node, state="available", quantity=1,
        reason_code="found", note="writeback benchmark",
    )  # fmt: skip
    submitted = time.perf_counter() - started
    request_refresh(home, debounce=debounce)
    while time.perf_counter() - started < timeout:
        if wb.applied_at(home, sub.submission_id):
            break
        time.sleep(0.5)
    else:
        raise SystemExit(f"not applied within {timeout:.0f} s; see {home}/autorefresh.log")
    visible = time.perf_counter() - started
    last = json.loads((home / "last_refresh.json").read_text(encoding="utf-8"))
    return {
        "submission_id": sub.submission_id,
        "submit_seconds": round(submitted, 3),
        "visible_seconds": round(visible, 1),
        "debounce": debounce,
        "refresh_timings": last.get("timings"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--debounce", type=float, default=1.0)
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args()
    result = run(args.home.resolve(), args.debounce, args.timeout)
    print(json.dumps(result, indent=2))
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in (result["refresh_timings"] or {}).items())
    print(
        f"submit {result['submit_seconds'] * 1000:.0f} ms; visible after "
        f"{result['visible_seconds']:.1f} s (debounce {args.debounce:g} s; refresh: {stages})"
    )


if __name__ == "__main__":
    main()
