"""Submissions from the forms: validate against the published warehouse and the domain
model, value them, and append them to the durable inbox (idempotent per submission id).

A form gets a `FormSession` when it opens: a fresh submission id (the idempotency key:
a double click or a resubmission of the same form creates one submission) and the
build_id of the publication the form was filled from. Submitting against an older
publication than the current one is refused: the figures the user saw have changed.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from opsledger.models import load_domain
from opsledger.writeback import warehouse as wh
from opsledger.writeback.store import append, now_utc, transaction
from opsledger.writeback.users import (
    PermissionDenied,
    User,
    WritebackError,
    authorize,
    same_user,
)

SOURCE = "opsledger-app"
NOTE_LIMIT = 1000  # characters, after whitespace is collapsed
# Actor: a username, a session token or a User (only its name is used; the user is
# loaded from the store and checked by every function here, see users.authorize)
Actor = str | User | None
# write-off reasons move stock to the external `scrap` state where the model allows it
WRITE_OFF_REASONS = ("write_off_damaged", "expired")


class StaleForm(WritebackError):
    """The published data changed since the form was opened."""


@dataclass(frozen=True)
class FormSession:
    submission_id: str
    build_id: str | None


def new_submission_id() -> str:
    return f"wb-{uuid.uuid4().hex}"


def open_form(home: Path | str | None) -> FormSession:
    return FormSession(new_submission_id(), wh.current_build_id(home))


@dataclass
class Submission:
    submission_id: str
    kind: str  # adjustment | disposition
    submitted_by: str
    role: str
    submitted_at: str
    value: float
    needs_approval: bool
    payload: dict
    event_ids: list[str]
    build_id: str | None
    note: str = ""
    duplicate: bool = False  # True when this submission id was already in the inbox
    extra: dict = field(default_factory=dict)


def threshold(kind: str) -> float:
    t = load_domain().thresholds
    return float(
        t["adjustment_approval_value" if kind == "adjustment" else "disposition_approval_value"]
    )


def adjustment_transition(state: str, quantity: int, reason_code: str) -> tuple[str, str]:
    """(from_state, to_state) of a signed adjustment; raises when the model forbids it."""
    allowed = {(t.from_state, t.to_state) for t in load_domain().transitions_for("adjustment")}
    if quantity > 0:
        move = ("adjustment", state)
    elif reason_code in WRITE_OFF_REASONS and (state, "scrap") in allowed:
        move = (state, "scrap")
    else:
        move = (state, "adjustment")
    if move not in allowed:
        direction = "into" if quantity > 0 else "out of"
        ok = (
            sorted({t for f, t in allowed if f == "adjustment"})
            if quantity > 0
            else sorted(
                {f for f, t in allowed if t in ("adjustment", "scrap") and f != "adjustment"}
            )
        )
        raise WritebackError(
            f"Adjusting stock {direction} {state!r} is not allowed; states allowed: {', '.join(ok)}."
        )
    return move


def _check_stale(con, session: FormSession) -> None:
    current = wh.build_id(con)
    if session.build_id != current:
        raise StaleForm(
            "The published data changed since this form was opened "
            f"(publication {session.build_id} is now {current}). "
            "Reload the form and check the figures again."
        )


def _existing(tx, submission_id: str) -> Submission | None:
    row = tx.execute(
        "select * from inbox where submission_id = ? and entry = 'submitted'", [submission_id]
    ).fetchone()
    return _from_row(row, duplicate=True) if row else None


def _from_row(row, duplicate: bool = False) -> Submission:
    payload = json.loads(row["payload"])
    return Submission(
        submission_id=row["submission_id"],
        kind=row["kind"],
        submitted_by=row["actor"],
        role=row["role"],
        submitted_at=row["at"],
        value=row["value"],
        needs_approval=bool(row["needs_approval"]),
        payload=payload,
        event_ids=json.loads(row["event_ids"]),
        build_id=row["build_id"],
        note=row["comment"] or "",
        duplicate=duplicate,
    )


def _check_range(quantity: int, value: float) -> None:
    """The domain model's bounds per event (models/domain.yml max_per_event)."""
    domain = load_domain()
    max_units = domain.max_value("quantity")
    max_money = domain.raw.get("max_per_event", {}).get("currency")
    if max_units is not None and abs(quantity) > max_units:
        raise WritebackError(f"At most {max_units:,} units per submission (the domain's bound).")
    if max_money is not None and value > max_money:
        raise WritebackError(
            f"A value of {value:,.2f} is above the domain's bound of {max_money:,} per event."
        )


def _pending_quantity(
    tx, applied: set[str], kind: str, match: dict, exclude: str | None = None
) -> int:
    """Units of not-rejected submissions on the same key whose events the published
    warehouse does not contain yet (they are not in the marts' figures)."""
    rows = tx.execute(
        "select s.payload, s.event_ids from inbox s where s.entry = 'submitted' and s.kind = ? "
        "and s.submission_id is not ? "
        "and not exists (select 1 from inbox r where r.submission_id = s.submission_id "
        "and r.entry = 'rejected')",
        [kind, exclude],
    ).fetchall()
    candidates: list[tuple[list[str], int]] = []
    for row in rows:
        payload = json.loads(row["payload"])
        if any(payload.get(k) != v for k, v in match.items()):
            continue
        if kind == "adjustment":
            units = -payload["quantity"] if payload["quantity"] < 0 else 0
        else:
            units = sum(s["quantity"] for s in payload["splits"])
        if units:
            candidates.append((json.loads(row["event_ids"]), units))
    return sum(units for ids, units in candidates if not all(e in applied for e in ids))


def _append(tx, sub: Submission) -> None:
    append(
        tx,
        submission_id=sub.submission_id,
        entry="submitted",
        at=sub.submitted_at,
        actor=sub.submitted_by,
        role=sub.role,
        kind=sub.kind,
        payload=json.dumps(sub.payload, sort_keys=True),
        value=sub.value,
        needs_approval=int(sub.needs_approval),
        build_id=sub.build_id,
        comment=sub.note,
        event_ids=json.dumps(sub.event_ids),
    )


def _clean_note(note: str | None) -> str:
    """The note with its whitespace collapsed; refused (never cut) when too long or
    not storable as UTF-8 (a lone surrogate, e.g.)."""
    text = " ".join((note or "").split())
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise WritebackError(
            f"The note contains a character that is not valid Unicode text (position "
            f"{exc.start + 1}); remove it and submit again."
        ) from exc
    if len(text) > NOTE_LIMIT:
        raise WritebackError(
            f"The note has {len(text):,} characters; the limit is {NOTE_LIMIT:,}. "
            "Shorten it: nothing was recorded."
        )
    return text


def window_hours() -> float:
    return float(load_domain().thresholds["approval_window_hours"])


def _same_key(kind: str, payload: dict) -> dict:
    """What makes submissions count together towards a threshold."""
    if kind == "adjustment":
        return {"sku": payload["sku"], "node_id": payload["node_id"]}
    return {"return_id": payload["return_id"]}


def _related(tx, submitter: str, kind: str, key: dict, at: str, exclude: str) -> list[dict]:
    """Not-rejected submissions of `submitter` on the same key within the window before `at`."""
    since = datetime.fromisoformat(at.replace("Z", "+00:00")) - timedelta(hours=window_hours())
    rows = tx.execute(
        "select s.submission_id, s.at, s.actor, s.value, s.payload, s.needs_approval "
        "from inbox s where s.entry = 'submitted' and s.kind = ? and s.submission_id <> ? "
        "and not exists (select 1 from inbox r where r.submission_id = s.submission_id "
        "and r.entry = 'rejected') order by s.seq",
        [kind, exclude],
    ).fetchall()
    out = []
    for r in rows:
        when = datetime.fromisoformat(r["at"].replace("Z", "+00:00"))
        payload = json.loads(r["payload"])
        if (
            same_user(r["actor"], submitter)
            and since <= when <= datetime.fromisoformat(at.replace("Z", "+00:00"))
            and all(payload.get(k) == v for k, v in key.items())
        ):
            out.append(
                {
                    "submission_id": r["submission_id"],
                    "submitted_at": r["at"],
                    "value": r["value"],
                    "needs_approval": bool(r["needs_approval"]),
                }
            )
    return out


def needs_approval(tx, submitter: str, kind: str, payload: dict, value: float, at: str) -> bool:
    """Above the threshold counting the submitter's other submissions on the same key
    within the window: five write-offs just under it are as one write-off above it."""
    prior = _related(tx, submitter, kind, _same_key(kind, payload), at, exclude="")
    return value + sum(float(r["value"] or 0) for r in prior) > threshold(kind)


def related_submissions(home: Path | str | None, submission_id: str) -> list[dict]:
    """The submitter's other submissions on the same key within the window before it
    (what the approval screen shows beside a submission)."""
    from opsledger.writeback.store import connect

    with connect(home) as con:
        row = con.execute(
            "select * from inbox where submission_id = ? and entry = 'submitted'", [submission_id]
        ).fetchone()
        if row is None:
            return []
        key = _same_key(row["kind"], json.loads(row["payload"]))
        return _related(con, row["actor"], row["kind"], key, row["at"], exclude=submission_id)


def submit_adjustment(
    home: Path | str | None,
    user: Actor,
    session: FormSession,
    *,
    sku: str,
    node_id: str,
    state: str,
    quantity: int,
    reason_code: str,
    note: str = "",
) -> Submission:
    """A stock adjustment: signed units into (+) or out of (-) `state` at `node_id`."""
    user = authorize(home, user, "submit", "submit stock adjustments")
    note = _clean_note(note)
    domain = load_domain()
    sku, node_id = (sku or "").strip(), (node_id or "").strip()
    if state not in domain.internal_states:
        raise WritebackError(f"Unknown state {state!r}.")
    if reason_code not in domain.reason_codes("adjustment"):
        raise WritebackError(f"Unknown adjustment reason code {reason_code!r}.")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity == 0:
        raise WritebackError("The quantity must be a whole number of units other than 0.")
    from_state, to_state = adjustment_transition(state, quantity, reason_code)
    # warehouse reads first: the inbox's write lock is held for milliseconds only
    with wh.read(home) as con:
        _check_stale(con, session)
        info = wh.sku_info(con, sku)
        if info is None:
            raise WritebackError(f"Unknown SKU {sku!r}: it is not in the published master data.")
        if not wh.node_exists(con, node_id):
            raise WritebackError(
                f"Unknown node {node_id!r}: it is not in the published master data."
            )
        held = wh.on_hand(con, sku, node_id, state)
        applied = wh.writeback_event_ids(con, "stock_events", {"sku": sku, "node_id": node_id})
    with transaction(home) as tx:
        existing = _existing(tx, session.submission_id)
        if existing:
            return existing
        if quantity < 0:
            pending = _pending_quantity(
                tx, applied, "adjustment", {"sku": sku, "node_id": node_id, "state": state}
            )
            if -quantity > held - pending:
                extra = f" ({pending} already claimed by pending submissions)" if pending else ""
                raise WritebackError(
                    f"Cannot remove {-quantity} units: {sku} at {node_id} has "
                    f"{held} units in {state!r}{extra}."
                )
        value = round(abs(quantity) * info["unit_cost"], 2)
        _check_range(quantity, value)
        at = now_utc()
        sub = Submission(
            submission_id=session.submission_id,
            kind="adjustment",
            submitted_by=user.username,
            role=user.role,
            submitted_at=at,
            value=value,
            needs_approval=needs_approval(
                tx, user.username, "adjustment", {"sku": sku, "node_id": node_id}, value, at
            ),
            payload={
                "sku": sku,
                "node_id": node_id,
                "state": state,
                "quantity": quantity,
                "from_state": from_state,
                "to_state": to_state,
                "reason_code": reason_code,
                "unit_cost": info["unit_cost"],
            },
            event_ids=[f"{session.submission_id}-1"],
            build_id=session.build_id,
            note=note,
        )
        _append(tx, sub)
    return sub


def submit_disposition(
    home: Path | str | None,
    user: Actor,
    session: FormSession,
    *,
    return_line_id: str,
    splits: list[tuple[str, int]] | dict[str, int],
    condition_grade: str | None = None,
    note: str = "",
) -> Submission:
    """Disposition of an inspected return line, its units split across dispositions."""
    user = authorize(home, user, "submit", "submit disposition decisions")
    note = _clean_note(note)
    domain = load_domain()
    items = list(splits.items()) if isinstance(splits, dict) else list(splits)
    merged: dict[str, int] = {}
    for disposition, qty in items:
        if not qty:
            continue
        if not isinstance(qty, int) or qty < 0:
            raise WritebackError("Quantities are whole numbers of units above 0.")
        merged[disposition] = merged.get(disposition, 0) + qty
    if not merged:
        raise WritebackError("Give at least one disposition a quantity above 0.")
    if condition_grade is not None and condition_grade not in domain.enum_values(
        "condition_grades"
    ):
        raise WritebackError(f"Unknown condition grade {condition_grade!r}.")
    with wh.read(home) as con:
        _check_stale(con, session)
        line = wh.return_line(con, return_line_id)
        applied = wh.writeback_event_ids(con, "returns_events", {"return_line_id": return_line_id})
    if line is None:
        raise WritebackError(f"Unknown return line {return_line_id!r}.")
    if line["inspected_at"] is None:
        raise WritebackError(f"Return line {return_line_id} is not inspected yet.")
    pclass = line["product_class"] or "unknown"
    allowed = domain.allowed_dispositions(pclass if pclass in domain.product_classes else "unknown")
    bad = [d for d in merged if d not in allowed]
    if bad:
        raise WritebackError(
            f"{', '.join(bad)} is not allowed for {pclass} products; allowed: {', '.join(allowed)}."
        )
    open_units = int(line["quantity"]) - int(line["qty_disposed"])
    wanted = sum(merged.values())
    unit_cost = float(line["unit_cost"] or 0)
    with transaction(home) as tx:
        existing = _existing(tx, session.submission_id)
        if existing:
            return existing
        pending = _pending_quantity(tx, applied, "disposition", {"return_line_id": return_line_id})
        if wanted > open_units - pending:
            extra = f", {pending} in pending submissions" if pending else ""
            raise WritebackError(
                f"Cannot dispose of {wanted} units: return line {return_line_id} has "
                f"{open_units} undisposed units{extra}."
            )
        value = round(wanted * unit_cost, 2)
        _check_range(wanted, value)
        ordered = sorted(merged.items())
        at = now_utc()
        sub = Submission(
            submission_id=session.submission_id,
            kind="disposition",
            submitted_by=user.username,
            role=user.role,
            submitted_at=at,
            value=value,
            needs_approval=needs_approval(
                tx, user.username, "disposition", {"return_id": line["return_id"]}, value, at
            ),
            payload={
                "return_id": line["return_id"],
                "return_line_id": return_line_id,
                "sku": line["sku"],
                "node_id": line["node_id"],
                "product_class": pclass,
                "condition_grade": condition_grade or line["condition_grade"],
                "splits": [{"disposition": d, "quantity": q} for d, q in ordered],
                "unit_cost": unit_cost,
            },
            event_ids=[f"{session.submission_id}-{i}" for i in range(1, len(ordered) + 1)],
            build_id=session.build_id,
            note=note,
        )
        _append(tx, sub)
    return sub


def get_submission(home: Path | str | None, submission_id: str) -> Submission | None:
    from opsledger.writeback.store import connect

    with connect(home) as con:
        row = con.execute(
            "select * from inbox where submission_id = ? and entry = 'submitted'", [submission_id]
        ).fetchone()
    return _from_row(row) if row else None


class NoLongerApplies(WritebackError):
    """At approval, the stock or open return units the submission needs are gone."""


def _recheck_reads(home: Path | str | None, submission_id: str) -> tuple[dict, int, set[str]]:
    """(payload, units the current publication holds for it, applied write-back ids)."""
    sub = get_submission(home, submission_id)
    if sub is None:
        return {}, 0, set()
    p = sub.payload
    with wh.read(home) as con:
        if sub.kind == "adjustment":
            held = wh.on_hand(con, p["sku"], p["node_id"], p["state"])
            applied = wh.writeback_event_ids(
                con, "stock_events", {"sku": p["sku"], "node_id": p["node_id"]}
            )
        else:
            line = wh.return_line(con, p["return_line_id"])
            held = int(line["quantity"]) - int(line["qty_disposed"]) if line else 0
            applied = wh.writeback_event_ids(
                con, "returns_events", {"return_line_id": p["return_line_id"]}
            )
    return {"kind": sub.kind, **p}, held, applied


def _no_longer_applies(tx, submission_id: str, reads: tuple[dict, int, set[str]]) -> str | None:
    """Why a submission can no longer apply (stock or open return units re-checked
    against the current publication and the other pending claims), or None."""
    payload, held, applied = reads
    if payload.get("kind") == "adjustment" and payload["quantity"] < 0:
        match = {k: payload[k] for k in ("sku", "node_id", "state")}
        pending = _pending_quantity(tx, applied, "adjustment", match, exclude=submission_id)
        if -payload["quantity"] > held - pending:
            return (
                f"{payload['sku']} at {payload['node_id']} now has {held} units in "
                f"{payload['state']!r}"
                + (f" ({pending} claimed by other pending submissions)" if pending else "")
                + f": cannot remove {-payload['quantity']}."
            )
    if payload.get("kind") == "disposition":
        match = {"return_line_id": payload["return_line_id"]}
        pending = _pending_quantity(tx, applied, "disposition", match, exclude=submission_id)
        wanted = sum(s["quantity"] for s in payload["splits"])
        if wanted > held - pending:
            return (
                f"Return line {payload['return_line_id']} now has {held} undisposed units"
                + (f", {pending} in other pending submissions" if pending else "")
                + f": cannot dispose of {wanted}."
            )
    return None


def decide(
    home: Path | str | None, user: Actor, submission_id: str, approve: bool, comment: str = ""
) -> str:
    """Approve or reject a submission waiting for approval; returns the entry written.
    An approval re-checks the stock or open return units first: a submission that can
    no longer apply is recorded as rejected with the reason (never exported) and
    NoLongerApplies is raised."""
    user = authorize(home, user, "approve", "approve or reject submissions")
    comment = _clean_note(comment)
    if not approve and not comment:
        raise WritebackError("Say why you reject it: a comment is required.")
    reads = _recheck_reads(home, submission_id) if approve else ({}, 0, set())
    refused: str | None = None
    with transaction(home) as tx:
        row = tx.execute(
            "select * from inbox where submission_id = ? and entry = 'submitted'", [submission_id]
        ).fetchone()
        if row is None:
            raise WritebackError(f"No submission {submission_id!r}.")
        if same_user(row["actor"], user.username):
            raise PermissionDenied("You cannot approve or reject your own submission.")
        if not row["needs_approval"]:
            raise WritebackError("This submission is below the threshold and needs no approval.")
        done = tx.execute(
            "select entry, actor from inbox where submission_id = ? and entry in ('approved', 'rejected')",
            [submission_id],
        ).fetchone()
        if done:
            raise WritebackError(f"Already {done['entry']} by {done['actor']}.")
        entry = "approved" if approve else "rejected"
        if approve:
            refused = _no_longer_applies(tx, submission_id, reads)
            if refused:
                entry, comment = "rejected", f"Refused at approval: {refused}"
        append(
            tx,
            submission_id=submission_id,
            entry=entry,
            at=now_utc(),
            actor=user.username,
            role=user.role,
            kind=row["kind"],
            comment=comment,
        )
    if refused:
        raise NoLongerApplies(f"Refused: {refused} Recorded as rejected; nothing is exported.")
    return entry


def approve(home, user, submission_id: str, comment: str = "") -> str:
    return decide(home, user, submission_id, True, comment)


def reject(home, user, submission_id: str, comment: str) -> str:
    return decide(home, user, submission_id, False, comment)
