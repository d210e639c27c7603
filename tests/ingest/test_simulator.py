"""Tests of the deterministic simulator (ingest/simulator).

Rows are validated here against the domain model directly (not via the ingest
package) so the simulator and the loader check each other.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import re
import shutil
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl
import pytest

from opsledger.ingest.simulator import generate
from opsledger.ingest.simulator.config import REFERENCE_END
from opsledger.models.domain import load_domain

DOMAIN = load_domain()
SCALE = 0.01
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
NOW = datetime.now(UTC)


# -- reading the landing area ----------------------------------------------------
def _text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.endswith(".gz") else data).decode("utf-8")


def read_file(path: Path, fmt: str) -> list[dict | None]:
    """Rows of one file as dicts of raw values; None for a row that cannot be parsed."""
    if fmt == "parquet":
        return pl.read_parquet(path).to_dicts()
    lines = _text(path).splitlines()
    if fmt == "jsonl":
        rows: list[dict | None] = []
        for line in lines:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                rows.append(None)
        return rows
    header = lines[0].split(",")
    out: list[dict | None] = []
    for values in csv.reader(lines[1:]):
        if len(values) != len(header):
            out.append(None)
        else:
            out.append({k: v for k, v in zip(header, values, strict=True) if v != ""})
    return out


def landing_rows(home: Path) -> list[tuple[str, str, int, dict | None]]:
    """(source, file, 1-based row, row) for every data row in every landing file."""
    out = []
    for source, spec in DOMAIN.sources.items():
        folder = home / "landing" / source
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = path.relative_to(home / "landing").as_posix()
            for i, row in enumerate(read_file(path, spec.format), start=1):
                out.append((source, rel, i, row))
    return out


# -- validation against the domain model -----------------------------------------
def _ts(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else None
    if not isinstance(value, str) or not TS.match(value):
        return None
    return datetime.fromisoformat(value)


def _check_type(name: str, value: object) -> bool:
    spec = DOMAIN.fields[name]
    if spec.type == "int":
        if isinstance(value, bool):
            return False
        if isinstance(value, str):
            if not re.fullmatch(r"-?\d+", value):
                return False
            value = int(value)
        if not isinstance(value, int):
            return False
        if spec.constraint == "positive" and value <= 0:
            return False
        return not (spec.constraint == "non_negative" and value < 0)
    if spec.type == "decimal":
        try:
            dec = Decimal(str(value))
        except InvalidOperation:
            return False
        return not (spec.constraint in ("positive", "non_negative") and dec < 0)
    if spec.type == "timestamp":
        return _ts(value) is not None
    if spec.type == "bool":
        return isinstance(value, bool) or value in ("true", "false")
    if spec.type == "date":
        return isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None
    return isinstance(value, str)


def make_validator(master: list[dict]):
    refs = {
        "sku": {r["sku"] for r in master if r["event_type"] == "product_upserted"},
        "node": {r["node_id"] for r in master if r["event_type"] == "location_upserted"},
        "channel": {r["channel_id"] for r in master if r["event_type"] == "channel_upserted"},
        "supplier": {r["supplier_id"] for r in master if r["event_type"] == "supplier_upserted"},
    }
    sku_class = {
        r["sku"]: r["product_class"] for r in master if r["event_type"] == "product_upserted"
    }
    moves = {(t.event_type, t.from_state, t.to_state) for t in DOMAIN.transitions}
    disp_to = {t.disposition: t.to_state for t in DOMAIN.transitions if t.disposition}

    def validate(source: str, row: dict | None) -> str | None:
        """None if the row is a valid contract event of `source`, else the reason."""
        if row is None:
            return "unparseable"
        row = {k: v for k, v in row.items() if v is not None}
        et = row.get("event_type")
        if et not in DOMAIN.sources[source].event_types:
            return "event_type"
        spec = DOMAIN.event_types[et]
        for f in ("event_id", "event_time", "source", *spec.required):
            if f not in row:
                return f"missing {f}"
        if "event_time" in row and _ts(row["event_time"]) is None:
            return "event_time"
        if _ts(row["event_time"]) > NOW:
            return "future"
        for name, value in row.items():
            if name in DOMAIN.fields and not _check_type(name, value):
                return f"type {name}"
            fs = DOMAIN.fields.get(name)
            if fs and fs.enum and value not in DOMAIN.enum_values(fs.enum):
                return f"enum {name}"
            if fs and fs.ref and value not in refs[fs.ref]:
                return f"ref {name}"
        if "reason_code" in row:
            kind = spec.reason_code_kind or ("cost" if et == "reverse_logistics_cost" else None)
            if kind and row["reason_code"] not in DOMAIN.reason_codes(kind):
                return "reason_code"
        if et == "disposition_decided":
            allowed = DOMAIN.allowed_dispositions(sku_class[row["sku"]])
            if row["disposition"] not in allowed:
                return "disposition"
        states = (et, row.get("from_state"), row.get("to_state"))
        if spec.moves and source == "stock" and et != "cycle_count" and states not in moves:
            return "transition"
        if et == "cycle_count":
            diff = int(row["counted_qty"]) - int(row["system_qty"])
            states = (row.get("from_state"), row.get("to_state"))
            want = {0: (None, None), 1: ("adjustment", "available")}.get(
                (diff > 0) - (diff < 0), ("available", "adjustment")
            )
            if states != want:
                return "cycle_count states"
        if et == "disposition_decided" and row["disposition"] not in disp_to:
            return "disposition"
        return None

    return validate


# -- fixtures -------------------------------------------------------------------
@pytest.fixture(scope="module")
def sim(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("sim")
    summary = generate(home, scale=SCALE, seed=3, imperfection_rate=0.01, end=REFERENCE_END)
    totals = json.loads((home / "ground_truth" / "totals.json").read_text())
    junk = pl.read_csv(home / "ground_truth" / "malformed_rows.csv")
    rows = landing_rows(home)
    master = [r for s, _, _, r in rows if s == "master"]
    return {
        "home": home,
        "summary": summary,
        "totals": totals,
        "junk": {(f, r): k for f, r, k, _ in junk.iter_rows()},
        "rows": rows,
        "validate": make_validator(master),
    }


def _digest(home: Path) -> dict[str, str]:
    return {
        p.relative_to(home).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((home / "landing").rglob("*"))
        if p.is_file()
    } | {
        p.relative_to(home).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((home / "ground_truth").rglob("*"))
        if p.is_file()
    }


def _true_rows(sim: dict) -> list[tuple[str, str, int, dict]]:
    copies = {d["copy"] for d in sim["totals"]["imperfections"]["duplicate_file_names"]}
    return [
        (s, f, i, r)
        for s, f, i, r in sim["rows"]
        if (f, i) not in sim["junk"] and f not in copies and r is not None
    ]


# -- tests ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("clean")
    summary = generate(home, scale=SCALE, seed=4, imperfection_rate=0.0, end=REFERENCE_END)
    return {"home": home, "summary": summary}


def test_deterministic(sim: dict, clean: dict, tmp_path: Path) -> None:
    again = generate(tmp_path, scale=SCALE, seed=3, imperfection_rate=0.01, end=REFERENCE_END)
    assert _digest(tmp_path) == _digest(sim["home"])
    assert again == {**sim["summary"], "seconds": again["seconds"]}
    other = _digest(clean["home"])
    assert other != _digest(sim["home"])
    assert clean["summary"]["events"] != sim["summary"]["events"]


def test_pieces_do_not_change_the_files(
    sim: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sources are formatted and written a few files at a time (delivery.py): how the
    work is cut must not change a byte of the files or of the ground truth."""
    from opsledger.ingest.simulator import delivery

    monkeypatch.setattr(delivery, "PIECE_ROWS", 500)  # many pieces, some one big file
    monkeypatch.setattr(delivery, "SCAN_ROWS", 777)
    generate(tmp_path, scale=SCALE, seed=3, imperfection_rate=0.01, end=REFERENCE_END)
    assert _digest(tmp_path) == _digest(sim["home"])


def test_layout_and_summary(sim: dict) -> None:
    home, summary = sim["home"], sim["summary"]
    files = sorted(
        p.relative_to(home / "landing").as_posix()
        for p in (home / "landing").rglob("*")
        if p.is_file()
    )
    assert len(files) == summary["files"] >= 100
    assert files[:4] == [
        "finance/2025-01/ledger-2025-01.parquet",
        *files[1:4],
    ]
    master = [f for f in files if f.startswith("master/")]
    assert master == sorted(master) and master[0] == "master/00_suppliers.csv"
    assert any(f.endswith(".jsonl.gz") for f in files)
    assert any(f.endswith(".csv.gz") for f in files)
    assert sum(1 for f in files if "3pl-acme" in f) > 30  # delayed batches
    for source in DOMAIN.sources:
        assert summary["events"][source] > 0


def test_true_rows_validate_and_junk_does_not(sim: dict) -> None:
    validate = sim["validate"]
    bad = Counter()
    for source, f, i, row in sim["rows"]:
        problem = validate(source, row)
        if (f, i) in sim["junk"]:
            assert problem is not None, (f, i, sim["junk"][(f, i)], row)
        elif problem is not None:
            bad[(source, problem)] += 1
    assert not bad, bad


def test_event_times_have_zones_and_stores_use_london(sim: dict) -> None:
    offsets = Counter()
    for source, _, _, row in _true_rows(sim):
        t = row["event_time"]
        if isinstance(t, str):
            offsets[(source, t[19:])] += 1
    assert offsets[("stock", "Z")] > 0
    assert offsets[("stock", "+01:00")] > 0 and offsets[("stock", "+00:00")] > 0
    assert offsets[("orders", "+01:00")] > 0  # POS orders in BST


def _movements(sim: dict) -> pl.DataFrame:
    """True stock movements from the written files, deduplicated by event_id."""
    recs = []
    disp_to = {t.disposition: t.to_state for t in DOMAIN.transitions if t.disposition}
    seen = set()
    for source, _, _, r in _true_rows(sim):
        if source not in ("stock", "returns") or r["event_id"] in seen:
            continue
        seen.add(r["event_id"])
        et = r["event_type"]
        if not DOMAIN.event_types[et].moves:
            continue
        t = _ts(r["event_time"]).astimezone(UTC)
        if et == "cycle_count":
            diff = int(r["counted_qty"]) - int(r["system_qty"])
            qty = abs(diff)
            fs, ts = ("adjustment", "available") if diff > 0 else ("available", "adjustment")
        else:
            qty = int(r["quantity"])
            if et == "disposition_decided":
                fs, ts = "returned", disp_to[r["disposition"]]
            else:
                default = DOMAIN.default_transition(et)
                fs = r.get("from_state") or default.from_state
                ts = r.get("to_state") or default.to_state
        to_node = r.get("to_node_id") or r["node_id"]
        sys_qty = int(r["system_qty"]) if et == "cycle_count" else -1
        recs.append((r["event_id"], et, t, r["sku"], r["node_id"], fs, to_node, ts, qty, sys_qty))
    cols = ["event_id", "et", "t", "sku", "node", "fs", "to_node", "ts", "qty", "sys_qty"]
    return pl.DataFrame(recs, schema=cols, orient="row")


def test_replay_never_negative_and_matches_ground_truth(sim: dict) -> None:
    mv = _movements(sim)
    internal = set(DOMAIN.internal_states)
    legs = pl.concat(
        [
            mv.select(
                "event_id",
                "et",
                "t",
                "sku",
                "node",
                pl.col("fs").alias("state"),
                (-pl.col("qty")).alias("d"),
                "sys_qty",
            ),
            mv.select(
                "event_id",
                "et",
                "t",
                "sku",
                pl.col("to_node").alias("node"),
                pl.col("ts").alias("state"),
                pl.col("qty").alias("d"),
                "sys_qty",
            ),
        ]
    ).filter(pl.col("state").is_in(list(internal)))
    legs = legs.sort("t", "event_id").with_columns(
        bal=pl.col("d").cum_sum().over("sku", "node", "state")
    )
    assert legs["bal"].min() >= 0
    # a cycle count's system_qty is the available quantity just before it
    cc = legs.filter((pl.col("et") == "cycle_count") & (pl.col("state") == "available"))
    before = (
        legs.filter(pl.col("state") == "available")
        .with_columns(prev=(pl.col("bal") - pl.col("d")))
        .filter(pl.col("et") == "cycle_count")
    )
    assert cc.height > 0
    assert (before["prev"] == before["sys_qty"]).all()
    end = (
        legs.group_by("sku", "node", "state")
        .agg(pl.col("d").sum().alias("quantity"))
        .filter(pl.col("quantity") != 0)
        .rename({"node": "node_id"})
        .sort("sku", "node_id", "state")
    )
    truth = pl.read_parquet(sim["home"] / "ground_truth" / "stock_end.parquet").sort(
        "sku", "node_id", "state"
    )
    assert end.select(truth.columns).equals(truth)
    assert set(truth["state"]) >= {"available", "returned"}


def test_conservation_per_sku(sim: dict) -> None:
    mv = _movements(sim)
    legs = pl.concat(
        [
            mv.select("sku", pl.col("fs").alias("state"), (-pl.col("qty")).alias("d")),
            mv.select("sku", pl.col("ts").alias("state"), pl.col("qty").alias("d")),
        ]
    )
    per_sku = legs.group_by("sku").agg(pl.col("d").sum())
    assert (per_sku["d"] == 0).all()
    ext = legs.filter(pl.col("state").is_in(list(DOMAIN.external_states)))
    assert ext.filter(pl.col("state") == "supplier")["d"].sum() < 0
    assert ext.filter(pl.col("state") == "customer")["d"].sum() > 0


def test_imperfections_match_files(sim: dict) -> None:
    tot, home = sim["totals"], sim["home"]
    imp = tot["imperfections"]
    # malformed rows: listed ones are where the ground truth says, by kind
    kinds = Counter(sim["junk"].values())
    assert dict(kinds) == imp["malformed"]
    assert len(kinds) >= 10
    # duplicate files: byte-identical copies named to sort right after the original
    assert imp["duplicate_files"] >= 1
    for d in imp["duplicate_file_names"]:
        a, b = home / "landing" / d["original"], home / "landing" / d["copy"]
        assert a.read_bytes() == b.read_bytes()
        assert d["original"] < d["copy"]
    # duplicate rows and late rows, found by reading the files
    true = _true_rows(sim)
    ids = Counter(r["event_id"] for _, _, _, r in true)
    assert sum(n - 1 for n in ids.values()) == imp["duplicate_rows"] > 0
    late, seen, last_file, running = 0, set(), None, None
    for _, f, _, r in true:
        if f != last_file:
            last_file, running = f, None
        t = _ts(r["event_time"])
        t = t.astimezone(UTC) if t else None
        first = r["event_id"] not in seen
        seen.add(r["event_id"])
        if running is not None and t < running and first:
            late += 1
        running = t if running is None or t > running else running
    assert late == imp["late_events"] > 0
    # rows written = every data row in every file
    per_source = Counter(s for s, _, _, _ in sim["rows"])
    assert dict(per_source) == tot["rows_written"]
    # distinct true events per source
    distinct = Counter(s for s, _ in {(s, r["event_id"]) for s, _, _, r in true})
    assert {s: v["total"] for s, v in tot["events_true"].items()} == dict(distinct)


def test_zero_rate_has_no_junk(clean: dict) -> None:
    summary = clean["summary"]
    imp = summary["imperfections"]
    assert imp["malformed_total"] == imp["duplicate_rows"] == imp["late_events"] == 0
    assert imp["duplicate_files"] == 0
    assert summary["rows_written"] == summary["events"]
    ids = Counter()
    for _, _, _, r in landing_rows(clean["home"]):
        assert r is not None
        ids[r["event_id"]] += 1
    assert max(ids.values()) == 1


def test_regenerate_replaces_previous_output(sim: dict, clean: dict, tmp_path: Path) -> None:
    """Generating over an old home leaves exactly what a fresh home would get."""
    home = tmp_path / "home"
    shutil.copytree(sim["home"], home)
    (home / "landing" / "orders" / "keep-me.txt").write_text("not ours")
    generate(home, scale=SCALE, seed=4, imperfection_rate=0.0, end=REFERENCE_END)
    (home / "landing" / "orders" / "keep-me.txt").unlink()
    assert _digest(home) == _digest(clean["home"])


def test_business_shape(sim: dict) -> None:
    tot = sim["totals"]
    by = {s: v["by_type"] for s, v in tot["events_true"].items()}
    assert tot["units_shipped"] <= tot["units_ordered"]
    assert 0 < tot["units_cancelled"] < 0.2 * tot["units_ordered"]
    assert 0 < tot["units_returned"] < 0.3 * tot["units_shipped"]
    assert Decimal(tot["refunded_amount"]) > 0
    for et in ("line_substituted", "order_cancelled", "payment_captured"):
        assert by["orders"][et] > 0
    for et in ("transfer_in", "cycle_count", "damaged", "adjustment", "status_change", "putaway"):
        assert by["stock"][et] > 0
    for et in ("return_rejected", "exchange_created", "vendor_credit_received"):
        assert by["returns"][et] > 0
    assert by["finance"]["liquidation_proceeds"] > 0
    # split shipments: some order lines have more than one shipment
    shipped = [r for s, _, _, r in _true_rows(sim) if s == "stock" and r["event_type"] == "shipped"]
    per_line = Counter(r["order_line_id"] for r in shipped)
    assert max(per_line.values()) >= 2
    # backorders: some lines are reserved on a later day than they were ordered
    assert by["stock"]["reserved"] < by["orders"]["order_placed"]


# -- issue 15 item 6 and issue 20 ------------------------------------------------
def _ts_utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def test_an_orders_lines_from_one_node_ship_in_one_parcel(sim: dict) -> None:
    """One parcel per order x node; a parcel splits only on a short pick (~4%)."""
    shipped = [
        r for s, _, _, r in _true_rows(sim) if s == "stock" and r.get("event_type") == "shipped"
    ]
    parcels: dict[str, set] = {}
    per_order: dict[str, set] = {}
    lines: dict[str, set] = {}
    for r in shipped:
        parcels.setdefault(r["shipment_id"], set()).add((r["order_id"], r["node_id"]))
        per_order.setdefault(r["order_id"], set()).add(r["shipment_id"])
        lines.setdefault(r["order_id"], set()).add(r["order_line_id"])
    # a parcel belongs to one order and leaves one node
    assert all(len(v) == 1 for v in parcels.values())
    multi = [o for o, ls in lines.items() if len(ls) > 1]
    assert len(multi) > 50
    one = sum(1 for o in multi if len(per_order[o]) == 1)
    assert one / len(multi) > 0.75, one / len(multi)
    # and lines do share parcels: fewer parcels than shipped lines
    assert len(parcels) < len({(r["order_line_id"], r["shipment_id"]) for r in shipped})


def test_recorded_at_follows_each_nodes_sync(sim: dict) -> None:
    """Own DCs near real time, the 3PL in sync batches with one long delay, stores
    minutes late with one outage still going on at the end (ground truth)."""
    scenario = sim["totals"]["scenario"]
    rows = [r for s, _, _, r in _true_rows(sim) if s == "stock"]
    lag: dict[str, list[float]] = {}
    tpl_sync: set[str] = set()
    for r in rows:
        assert "recorded_at" in r, r
        minutes = (_ts_utc(r["recorded_at"]) - _ts_utc(r["event_time"])).total_seconds() / 60
        assert minutes >= 0
        lag.setdefault(r["node_id"], []).append(minutes)
        if r["node_id"] == "3PL1":
            tpl_sync.add(r["recorded_at"])
    assert max(lag["DC1"] + lag["DC2"]) < 2
    assert all(2 <= m <= 40 for n in ("STORE1", "STORE3") for m in lag[n])
    assert len(tpl_sync) < len(lag["3PL1"]) / 2  # batches, not rows
    assert 30 < sorted(lag["3PL1"])[len(lag["3PL1"]) // 2] < 6 * 60
    # no 3PL sync inside its delay; the outage store sends nothing from the outage on
    delay = [_ts_utc(scenario["tpl_sync_delay"][k]) for k in ("from", "to")]
    assert not any(delay[0] < _ts_utc(t) < delay[1] for t in tpl_sync)
    outage = _ts_utc(scenario["store_outage"]["from"])
    node = scenario["store_outage"]["node_id"]
    assert all(_ts_utc(r["recorded_at"]) < outage for r in rows if r["node_id"] == node)
    assert all(_ts_utc(r["event_time"]) < outage for r in rows if r["node_id"] == node)


def test_a_year_that_ends_today_is_cut_at_now(tmp_path: Path) -> None:
    now = datetime(2026, 6, 15, 9, 30, 12, tzinfo=UTC)
    generate(tmp_path, scale=SCALE, seed=5, imperfection_rate=0.0, now=now)
    totals = json.loads((tmp_path / "ground_truth" / "totals.json").read_text())
    assert totals["period"] == {
        "start": "2025-06-16",
        "end": "2026-06-15",
        "cutoff": "2026-06-15T09:30:00Z",
    }
    times = [
        _ts_utc(r["event_time"]) if isinstance(r["event_time"], str) else r["event_time"]
        for s, _, _, r in landing_rows(tmp_path)
        if r is not None and s != "master"
    ]
    assert max(times) < datetime(2026, 6, 15, 9, 30, tzinfo=UTC)
    assert min(times) >= datetime(2025, 6, 16, tzinfo=UTC)
    assert max(times) > datetime(2026, 6, 14, tzinfo=UTC)
    with pytest.raises(ValueError, match="future"):
        generate(tmp_path / "x", scale=SCALE, seed=5, end=now.date().replace(day=20), now=now)
