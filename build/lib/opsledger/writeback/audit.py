"""The audit trail: the append-only inbox, read-only. There is deliberately no function
here (or anywhere in opsledger.writeback) that updates or deletes an inbox row, the
store's triggers abort any statement that tries, and the hash chain (store, chain)
shows any change made around them."""

from __future__ import annotations

import json
from pathlib import Path

from opsledger.writeback.inbox import describe, submission_status
from opsledger.writeback.store import connect

AUDIT_COLUMNS = (
    "seq",
    "at",
    "actor",
    "role",
    "entry",
    "submission_id",
    "kind",
    "what",
    "why",
    "value",
    "event_ids",
    "hash",
)


def audit_log(home: Path | str | None) -> list[dict]:
    """Every journal entry, oldest first: who, role, when, what, why, resulting events."""
    with connect(home) as con:
        rows = [dict(r) for r in con.execute("select * from inbox order by seq").fetchall()]
    what: dict[str, str] = {}
    out = []
    for r in rows:
        if r["entry"] == "submitted":
            what[r["submission_id"]] = describe(r["kind"], json.loads(r["payload"]))
        out.append(
            {
                "seq": r["seq"],
                "at": r["at"],
                "actor": r["actor"],
                "role": r["role"],
                "entry": r["entry"],
                "submission_id": r["submission_id"],
                "kind": r["kind"] or "user",
                "what": what.get(r["submission_id"], r["comment"] or "")
                if r["entry"] != "user_added"
                else r["comment"],
                "why": (r["comment"] or "")
                if r["entry"] in ("submitted", "approved", "rejected")
                else "",
                "value": r["value"],
                "event_ids": ", ".join(json.loads(r["event_ids"])) if r["event_ids"] else "",
                "hash": (r["hash"] or "")[:16],
            }
        )
    return out


def approval_chains(home: Path | str | None) -> list[dict]:
    """One row per submission with its chain: submitted -> decided -> exported -> applied."""
    out = []
    for s in submission_status(home):
        chain = [f"submitted by {s['submitted_by']} ({s['role']}) at {s['submitted_at']}"]
        if s["decision"]:
            chain.append(f"{s['decision']} by {s['decided_by']} at {s['decided_at']}")
        elif not s["needs_approval"]:
            chain.append("below threshold: no approval needed")
        if s["exported_at"]:
            chain.append(f"exported at {s['exported_at']}")
        if s["applied_at"]:
            chain.append(f"applied at {s['applied_at']}")
        out.append(
            {
                "submission_id": s["submission_id"],
                "status": s["status"],
                "kind": s["kind"],
                "submitted_by": s["submitted_by"],
                "role": s["role"],
                "submitted_at": s["submitted_at"],
                "what": s["what"],
                "why": s["why"],
                "value": s["value"],
                "decision_comment": s["decision_comment"] or "",
                "approval_chain": " -> ".join(chain),
                "event_ids": ", ".join(s["event_ids"]),
                "applied_at": s["applied_at"],
            }
        )
    return out
