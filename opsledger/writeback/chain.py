"""`opsledger audit verify`: recompute the hash chain of the inbox and the users' hashes.

Read-only and independent of the store's triggers (an attacker may have dropped
them): every inbox entry must link to the one before it and hash to what it
carries; every users row must hash to what it carries, point at the latest journal
entry about that user, and agree with what that entry recorded."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from opsledger.core.paths import HomePaths
from opsledger.writeback.store import KEY_NAME, entry_hash, store_path, user_hash


@dataclass
class Verification:
    ok: bool
    entries: int = 0
    users: int = 0
    first_broken: str | None = None
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "users": self.users,
            "first_broken": self.first_broken,
            "problems": self.problems,
        }


def verify(home: Path | str | None) -> Verification:
    path = store_path(home)
    key_path = HomePaths.at(home).root / KEY_NAME
    if not path.exists():
        return Verification(False, problems=[f"no write-back store at {path}"])
    if not key_path.exists():
        return Verification(False, problems=[f"no audit key at {key_path}: cannot verify"])
    key = key_path.read_bytes()
    # a plain read-only connection: no schema creation, no migration, no triggers needed
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        entries = [dict(r) for r in con.execute("select * from inbox order by seq")]
        users = [dict(r) for r in con.execute("select * from users order by username")]
    finally:
        con.close()
    out = Verification(True, entries=len(entries), users=len(users))

    def broken(record: str, why: str) -> None:
        out.ok = False
        out.first_broken = out.first_broken or record
        out.problems.append(f"{record}: {why}")

    prev = None
    latest: dict[str, dict] = {}
    for row in entries:
        record = f"inbox seq {row['seq']} ({row['entry']} {row['submission_id']})"
        if row.get("hash") is None:
            broken(record, "carries no hash")
        elif row["prev_hash"] != prev:
            broken(record, "does not link to the entry before it (an entry was removed, "
                   "inserted or reordered)")  # fmt: skip
        elif entry_hash(key, row) != row["hash"]:
            broken(record, "was changed after it was written (its hash does not match)")
        prev = row.get("hash")
        if row["entry"] in ("user_added", "user_disabled"):
            latest[row["submission_id"].removeprefix("user:")] = row
    for user in users:
        record = f"users record {user['username']!r}"
        journal = latest.get(user["username"])
        if user.get("hash") is None or user_hash(key, user) != user["hash"]:
            broken(record, "was changed outside opsledger (its hash does not match)")
        elif journal is None or journal["hash"] != user["journal_hash"]:
            broken(record, "is not the state its latest journal entry recorded")
        elif journal["payload"]:  # entries written before the chain recorded no state
            recorded = json.loads(journal["payload"])
            actual = {
                "role": user["role"],
                "password_sha256": hashlib.sha256(user["password_hash"].encode()).hexdigest(),
                "disabled": bool(user["disabled"]),
            }
            diff = sorted(k for k in actual if recorded.get(k) != actual[k])
            if diff:
                broken(record, f"differs from its journal entry in {', '.join(diff)}")
    return out
