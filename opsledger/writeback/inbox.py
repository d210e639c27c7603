"""From the inbox to the warehouse: export approved submissions as contract events in
landing files, then let the next refresh ingest them like any other source.

Each submission becomes one file, named by its submission id
(`landing/stock/_writeback/writeback-<id>.csv`, `landing/returns/_writeback/writeback-<id>.jsonl`:
the reserved folder, the only place ingest accepts provenance fields from), written
to a hidden temp name and renamed, so ingest never sees half a file. The content is
a pure function of the inbox rows (event ids derive from the submission id, the event
time is the moment it took effect: approval, or submission below the threshold), so a
crash between the rename and the `exported` entry re-exports the very same bytes, which
ingest recognises by hash; an exported submission is never exported again.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from opsledger.core.errors import Busy
from opsledger.core.paths import HomePaths
from opsledger.models import load_domain
from opsledger.writeback import warehouse as wh
from opsledger.writeback.store import append, connect, now_utc, transaction
from opsledger.writeback.users import WritebackError

STOCK_COLUMNS = (
    "event_id",
    "event_type",
    "event_time",
    "source",
    "node_id",
    "sku",
    "quantity",
    "from_state",
    "to_state",
    "reason_code",
    "note",
    "submission_id",
    "submitted_by",
    "approved_by",
)
SOURCE = "opsledger-app"


@contextmanager
def _export_lock(home: Path | str | None) -> Iterator[None]:
    root = HomePaths.at(home).root
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".writeback-export.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def events_of(sub: dict, decision: dict | None) -> list[dict]:
    """The contract events of a submission (sub: its `submitted` inbox row as a dict)."""
    payload = json.loads(sub["payload"])
    ids = json.loads(sub["event_ids"])
    approved_by = decision["actor"] if decision else ""
    effective = decision["at"] if decision else sub["at"]
    common = {
        "event_time": effective,
        "source": SOURCE,
        "node_id": payload["node_id"],
        "sku": payload["sku"],
        "note": sub["comment"] or "",
        "submission_id": sub["submission_id"],
        "submitted_by": sub["actor"],
        "approved_by": approved_by,
    }
    if sub["kind"] == "adjustment":
        return [
            {
                "event_id": ids[0],
                "event_type": "adjustment",
                **common,
                "quantity": abs(payload["quantity"]),
                "from_state": payload["from_state"],
                "to_state": payload["to_state"],
                "reason_code": payload["reason_code"],
            }
        ]
    return [
        {
            "event_id": event_id,
            "event_type": "disposition_decided",
            **common,
            "return_id": payload["return_id"],
            "return_line_id": payload["return_line_id"],
            "quantity": split["quantity"],
            "disposition": split["disposition"],
            "condition_grade": payload["condition_grade"],
        }
        for event_id, split in zip(ids, payload["splits"], strict=True)
    ]


def _render(kind: str, events: list[dict]) -> str:
    if kind == "adjustment":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=STOCK_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for event in events:
            writer.writerow({k: event.get(k, "") for k in STOCK_COLUMNS})
        return out.getvalue()
    return "".join(
        json.dumps({k: v for k, v in e.items() if v not in ("", None)}, sort_keys=True) + "\n"
        for e in events
    )


def landing_file(home: Path | str | None, kind: str, submission_id: str) -> Path:
    paths = HomePaths.at(home)
    folder = load_domain().raw["writeback"]["reserved_folder"]
    if kind == "adjustment":
        return paths.landing_for("stock") / folder / f"writeback-{submission_id}.csv"
    return paths.landing_for("returns") / folder / f"writeback-{submission_id}.jsonl"


def _write_atomic(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, target)


def _ready(con) -> list[tuple[dict, dict | None]]:
    """Submitted, approved or below threshold, not rejected, not exported yet."""
    rows = con.execute(
        "select s.*, d.actor as d_actor, d.at as d_at from inbox s "
        "left join inbox d on d.submission_id = s.submission_id and d.entry = 'approved' "
        "where s.entry = 'submitted' "
        "and (s.needs_approval = 0 or d.seq is not null) "
        "and not exists (select 1 from inbox x where x.submission_id = s.submission_id "
        "and x.entry in ('exported', 'rejected')) order by s.seq"
    ).fetchall()
    out = []
    for r in rows:
        sub = dict(r)
        decision = {"actor": sub["d_actor"], "at": sub["d_at"]} if sub["d_actor"] else None
        out.append((sub, decision))
    return out


def export_pending(home: Path | str | None) -> list[str]:
    """Write a landing file for every approved (or below-threshold) submission not
    exported yet; returns their submission ids."""
    exported: list[str] = []
    with _export_lock(home):
        with connect(home) as con:
            ready = _ready(con)
        for sub, decision in ready:
            events = events_of(sub, decision)
            target = landing_file(home, sub["kind"], sub["submission_id"])
            _write_atomic(target, _render(sub["kind"], events))
            with transaction(home) as tx:
                append(
                    tx,
                    submission_id=sub["submission_id"],
                    entry="exported",
                    at=now_utc(),
                    actor="system",
                    role="system",
                    kind=sub["kind"],
                    comment=str(target.relative_to(HomePaths.at(home).root)),
                    event_ids=json.dumps([e["event_id"] for e in events]),
                )
            exported.append(sub["submission_id"])
    return exported


# -- status ------------------------------------------------------------------------


def submission_status(home: Path | str | None) -> list[dict]:
    """One row per submission: status pending_approval | rejected | approved (waiting for
    export) | exported (waiting for a refresh) | applied, with when it took effect."""
    with connect(home) as con:
        rows = [dict(r) for r in con.execute("select * from inbox order by seq").fetchall()]
    subs: dict[str, dict] = {}
    for r in rows:
        if r["entry"] == "submitted":
            payload = json.loads(r["payload"])
            subs[r["submission_id"]] = {
                "submission_id": r["submission_id"],
                "kind": r["kind"],
                "submitted_by": r["actor"],
                "role": r["role"],
                "submitted_at": r["at"],
                "value": r["value"],
                "needs_approval": bool(r["needs_approval"]),
                "what": describe(r["kind"], payload),
                "why": r["comment"] or "",
                "sku": payload.get("sku"),
                "node_id": payload.get("node_id"),
                "event_ids": json.loads(r["event_ids"]),
                "decision": None,
                "decided_by": None,
                "decided_at": None,
                "decision_comment": None,
                "exported_at": None,
                "file": None,
            }
    for r in rows:
        sub = subs.get(r["submission_id"])
        if sub is None:
            continue
        if r["entry"] in ("approved", "rejected"):
            sub.update(
                decision=r["entry"],
                decided_by=f"{r['actor']} ({r['role']})",
                decided_at=r["at"],
                decision_comment=r["comment"],
            )
        elif r["entry"] == "exported":
            sub.update(exported_at=r["at"], file=r["comment"])
    applied: dict = {}
    pubs: list = []
    try:
        with wh.read(home) as wcon:
            applied = wh.present_event_ids(wcon, [e for s in subs.values() for e in s["event_ids"]])
            pubs = wh.publications(wcon)
    except WritebackError:
        pass
    for sub in subs.values():
        sub["applied_at"] = None
        if sub["decision"] == "rejected":
            sub["status"] = "rejected"
        elif sub["event_ids"] and all(e in applied for e in sub["event_ids"]):
            sub["status"] = "applied"
            ingested = max(applied[e] for e in sub["event_ids"])
            sub["applied_at"] = _published_after(pubs, ingested)
        elif sub["exported_at"]:
            sub["status"] = "exported"
        elif sub["needs_approval"] and sub["decision"] is None:
            sub["status"] = "pending_approval"
        else:
            sub["status"] = "approved"
    return list(subs.values())


def _published_after(pubs: list, ingested) -> str | None:
    """When the first publication holding an event ingested at `ingested` went live."""
    if ingested is None:
        return None
    ing = ingested.astimezone(UTC).replace(tzinfo=None) if ingested.tzinfo else ingested
    for _build, published_at in pubs:
        if published_at is not None and published_at >= ing:
            return published_at.isoformat(timespec="seconds") + "Z"
    return None


def describe(kind: str, payload: dict) -> str:
    if kind == "adjustment":
        q = payload["quantity"]
        return (
            f"adjust {payload['sku']} at {payload['node_id']} {payload['state']} "
            f"{q:+d} ({payload['reason_code']})"
        )
    splits = ", ".join(f"{s['quantity']} {s['disposition']}" for s in payload["splits"])
    return f"dispose {payload['return_line_id']} ({payload['sku']}, grade {payload['condition_grade']}): {splits}"


# -- apply -------------------------------------------------------------------------


@dataclass
class ApplyResult:
    exported: list[str] = field(default_factory=list)
    refreshed: bool = False
    status: str = "nothing_to_apply"  # nothing_to_apply | debounced | busy | published | failed
    message: str = ""
    refresh: dict = field(default_factory=dict)


def _unapplied_exports(home: Path | str | None) -> int:
    return sum(1 for s in submission_status(home) if s["status"] == "exported")


class Refreshed(Protocol):
    """What apply_pending needs of a refresh's outcome (opsledger.refresh.RefreshResult)."""

    published: bool
    status: str
    message: str

    def to_dict(self) -> dict: ...


# home, progress -> outcome; raises opsledger.core.errors.Busy when one already runs
Refresh = Callable[..., Refreshed]


def apply_pending(
    home: Path | str | None,
    refresh: Refresh,
    min_interval_seconds: float = 60.0,
    progress: Callable[[str], None] | None = None,
) -> ApplyResult:
    """Export what is ready, then run `refresh` (opsledger.refresh.run_refresh, passed
    in: the write-back store sits below the refresh, which exports the inbox) so it
    reaches the published warehouse.

    Debounced: when a refresh finished less than `min_interval_seconds` ago the refresh
    is skipped (the files are in the landing area; the next refresh takes them), and a
    refresh already running is not waited for (status `busy`)."""
    result = ApplyResult(exported=export_pending(home))
    if not _unapplied_exports(home):
        result.message = "Nothing waits for a refresh."
        return result
    last = HomePaths.at(home).root / "last_refresh.json"
    if last.exists():
        age = time.time() - last.stat().st_mtime
        if age < min_interval_seconds:
            result.status = "debounced"
            result.message = (
                f"A refresh ran {age:.0f}s ago; the next one (or `opsledger refresh`) applies it."
            )
            return result
    try:
        refreshed = refresh(home, progress=progress)
    except Busy as exc:  # another refresh holds the lock
        result.status = "busy"
        result.message = f"{exc}; it or the next refresh applies the exported submissions."
        return result
    result.refreshed = True
    result.refresh = refreshed.to_dict()
    result.status = "published" if refreshed.current else "failed"
    result.message = refreshed.message or refreshed.status
    return result


def applied_at(home: Path | str | None, submission_id: str) -> str | None:
    for s in submission_status(home):
        if s["submission_id"] == submission_id:
            return s["applied_at"]
    return None


def now() -> datetime:
    return datetime.now(UTC)
