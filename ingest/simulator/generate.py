"""Entry point: simulate, format, add imperfections, write files and ground truth."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from opsledger.core.paths import HomePaths
from opsledger.models.domain import load_domain

from . import delivery, ground_truth, sync
from .config import DAY, DAYS, END, NODES, SimConfig
from .delivery import with_recorded
from .engine import simulate
from .formatting import pop_source
from .imperfections import needed_fields
from .layout import streams_for
from .master import MASTER_FILES, master_frames
from .writers import Written, duplicate_files

DOMAIN = load_domain()
SOURCES = ("orders", "stock", "procurement", "returns", "finance")
MANIFEST = "manifest.json"


def _clear(paths: HomePaths) -> None:
    """Remove the previous run's files (listed in its manifest) and ground truth."""
    manifest = paths.ground_truth / MANIFEST
    if manifest.exists():
        for rel in json.loads(manifest.read_text())["files"]:
            (paths.landing / rel).unlink(missing_ok=True)
        for source in ("master", *SOURCES):  # drop now-empty month folders
            folder = paths.landing_for(source)
            for d in sorted(folder.glob("**/"), reverse=True) if folder.exists() else []:
                if d != folder and not any(d.iterdir()):
                    d.rmdir()
    if paths.ground_truth.exists():
        shutil.rmtree(paths.ground_truth)


def sim_config(
    scale: float,
    seed: int,
    imperfection_rate: float,
    end: date | None,
    now: datetime | None,
    ahead_days: int = 0,
) -> SimConfig:
    """The period ends on `end` (default: today, UTC, or `ahead_days` after today for a
    live feed that goes on emitting); a period that ends today or later is cut at the
    current minute, so nothing is dated in the future. An explicit past end gives the
    same files for the same seed on any day."""
    now = now or datetime.now(UTC)
    end = end or now.date() + timedelta(days=ahead_days)
    cfg = SimConfig(scale=scale, seed=seed, imperfection_rate=imperfection_rate, end=end)
    cutoff = min(END, int(now.timestamp()) // 60 * 60 - cfg.epoch0)
    if cutoff <= (DAYS - 1 - ahead_days) * DAY:
        raise ValueError(f"end {end} is in the future: the simulated period must end by today")
    return SimConfig(scale, seed, imperfection_rate, end=end, cutoff=cutoff)


def _undelivered(node: np.ndarray) -> dict[str, int]:
    """Stock rows not sent yet, per node id."""
    codes, counts = np.unique(node, return_counts=True)
    return dict(sorted((NODES[int(k)][0], int(v)) for k, v in zip(codes, counts, strict=True)))


def generate(
    home: Path,
    scale: float = 1.0,
    seed: int = 1,
    imperfection_rate: float = 0.002,
    progress: Callable[[str, float], None] | None = None,
    end: date | None = None,
    now: datetime | None = None,
    live: dict[str, pl.DataFrame] | None = None,
) -> dict:
    """Simulate one year of operations ending on `end` (default today) and write the
    landing files; `now` (default the clock) only matters when the year ends today.

    With `live` (a dict to fill), the year ends tomorrow and is cut now, as always; the
    events not delivered yet (those after now, and stock rows their sender has not
    recorded yet) go into `live`, per source, for `ingest.simulator.live` to emit as
    their time comes."""
    started = time.perf_counter()
    if live is not None and end is not None:
        raise ValueError("a live feed continues from today: it takes no --end")
    cfg = sim_config(
        scale, seed, imperfection_rate, end, now, ahead_days=1 if live is not None else 0
    )
    paths = HomePaths.at(home)
    _clear(paths)
    paths.landing.mkdir(parents=True, exist_ok=True)
    paths.ground_truth.mkdir(parents=True, exist_ok=True)
    report = progress or (lambda stage, fraction: None)

    world = simulate(cfg, report)
    written = Written()
    summaries: dict[str, dict] = {}
    master = pl.concat(master_frames(world.cat, cfg.epoch0))
    for name, df in zip(MASTER_FILES, master_frames(world.cat, cfg.epoch0), strict=True):
        rel = f"master/{name}"
        text = df.write_csv(include_header=True, null_value="")
        (paths.landing_for("master")).mkdir(parents=True, exist_ok=True)
        (paths.landing / rel).write_text(text, encoding="utf-8", newline="")
        written.files.append(rel)
        written.file_rows[rel] = df.height
        written.file_junk[rel] = 0
        written.rows["master"] = written.rows.get("master", 0) + df.height
    summaries["master"] = ground_truth.source_summary("master", master)

    # One source at a time, and its files a piece at a time (delivery.py), to bound
    # memory. Imperfections use their own generator so they never change the true events.
    rng = np.random.default_rng([seed, 7])
    rate = imperfection_rate
    late = dup = 0
    moves: list[pl.DataFrame] = []  # legs of every delivered movement
    happened: list[pl.DataFrame] = []  # legs of every movement before the cutoff, sent or not
    sp = sync.plan(cfg, np.random.default_rng([seed, 13]))
    undelivered: dict[str, int] = {}
    for i, source in enumerate(SOURCES):
        report("write", i / len(SOURCES))
        ev = pop_source(
            world.buf, world.cat, END if live is not None else cfg.cutoff, source, cfg.epoch0
        )
        t, node = ev.column("t"), ev.column("node")
        sent = np.flatnonzero(t < cfg.cutoff)
        ahead = np.flatnonzero(t >= cfg.cutoff)
        keep = np.ones(len(sent), dtype=bool)
        rec = None
        if source == "stock":
            # rows the sender has not recorded by the cutoff are not delivered yet
            rec = sync.recorded(sp, node[sent], t[sent], np.random.default_rng([seed, 11]))
            keep = rec < cfg.cutoff
            unsent = sent[~keep]
            if live is not None:
                tail = with_recorded(ev.format(unsent), rec[~keep], cfg.epoch0)
                rec_ahead = sync.recorded(
                    sp, node[ahead], t[ahead], np.random.default_rng([seed, 12])
                )
                tail = pl.concat([tail, with_recorded(ev.format(ahead), rec_ahead, cfg.epoch0)])
                live[source] = tail.rename({"_rec": "_due"})
            undelivered = _undelivered(node[unsent])
            rec = rec[keep]
        elif live is not None:
            live[source] = ev.format(ahead).with_columns(_due=pl.col("_t"))
        fmt = DOMAIN.sources[source].format
        has_moves = source in ("stock", "returns")
        truth = delivery.scan(ev, sent, keep, needed_fields(fmt, rate), has_moves)
        summaries[source] = truth.summary
        if has_moves:
            happened.append(truth.happened)
            moves.append(truth.delivered)
        rows = sent[keep]
        streams = streams_for(source, fmt, rng, cfg.epoch0, cfg.cutoff)
        p = delivery.plan(truth, node[rows], t[rows], rec, streams, fmt, rate, rng)
        del t, node, sent, keep, truth  # the whole-source arrays the pieces do not need
        late, dup = late + p.n_late, dup + p.n_dup
        delivery.write(ev, rows, rec, p, fmt, streams, paths.landing, written)
        del ev, p
    n_dup_files = max(1, round(rate * 500)) if rate > 0 else 0
    copies = duplicate_files(paths.landing, written, n_dup_files, rng)

    report("ground_truth", 0.0)
    sku_names = world.cat.sku_ids.tolist()
    end_stock = ground_truth.stock_end(pl.concat(moves), sku_names)
    physical = ground_truth.stock_end(pl.concat(happened), sku_names)
    available = physical.filter(pl.col("state") == "available")["quantity"].sum()
    if cfg.cutoff == END and int(available) != int(world.avail.sum()):
        raise AssertionError("simulated available stock disagrees with the event log")
    end_stock.write_parquet(
        paths.ground_truth / "stock_end.parquet", compression="zstd", statistics=False
    )
    totals = ground_truth.totals(summaries)
    malformed_counts: dict[str, int] = {}
    for j in written.junk:
        malformed_counts[j["kind"]] = malformed_counts.get(j["kind"], 0) + 1
    totals["imperfections"] = {
        "duplicate_rows": dup,
        "duplicate_files": len(copies),
        "duplicate_file_rows": sum(c[2] for c in copies),
        "duplicate_file_names": [{"original": a, "copy": b} for a, b, _ in copies],
        "late_events": late,
        "malformed": dict(sorted(malformed_counts.items())),
        "malformed_total": len(written.junk),
    }
    totals["rows_written"] = dict(sorted(written.rows.items()))
    all_files = sorted([*written.files, *(c[1] for c in copies)])
    totals["files"] = len(all_files)
    totals["scale"], totals["seed"], totals["imperfection_rate"] = scale, seed, rate
    totals["period"] = {
        "start": cfg.start.isoformat(),
        "end": cfg.end.isoformat(),
        "cutoff": datetime.fromtimestamp(cfg.epoch0 + cfg.cutoff, tz=UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
    }
    totals["scenario"] = ground_truth.scenario(world, sp, cfg, undelivered)
    (paths.ground_truth / "totals.json").write_text(
        json.dumps(totals, indent=2, sort_keys=True) + "\n"
    )
    pl.DataFrame(
        written.junk,
        schema={"file": pl.Utf8, "row": pl.Int64, "kind": pl.Utf8, "event_id": pl.Utf8},
    ).write_csv(paths.ground_truth / "malformed_rows.csv")
    (paths.ground_truth / MANIFEST).write_text(json.dumps({"files": all_files}, indent=1) + "\n")
    report("done", 1.0)
    seconds = round(time.perf_counter() - started, 2)
    summary = {
        "events": {s: totals["events_true"][s]["total"] for s in sorted(totals["events_true"])},
        "events_total": totals["events_true_total"],
        "rows_written": totals["rows_written"],
        "files": len(all_files),
        "imperfections": totals["imperfections"],
        "seconds": seconds,
    }
    if live is not None:  # where the live feed takes over
        summary["live"] = {
            "epoch0": cfg.epoch0,
            "cutoff": cfg.cutoff,
            "pending": sum(df.height for df in live.values()),
        }
    return summary
