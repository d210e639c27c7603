"""Sign-in with throttling, and server-side sessions.

Failed sign-ins are counted per username and per client (the browser's address);
`signin_max_failures` failures of a username (or `signin_client_max_failures` of a
client, over all usernames) within `signin_lockout_minutes` lock it for that long
(domain model). A locked account is refused before its password is checked, so the
right password does not help either; every lockout is an entry of the audit journal.

A successful sign-in opens a session: a random token (only its SHA-256 is stored)
that expires after the configured lifetime (settings.toml). Privileged functions take
the token or the username and load the user from the store themselves."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from opsledger.core.settings import load_settings
from opsledger.models import load_domain
from opsledger.writeback.store import append, connect, now_utc, transaction
from opsledger.writeback.users import User, authenticate, get_user, normalise

TOKEN_PREFIX = "ols_"


@dataclass(frozen=True)
class SignIn:
    user: User | None
    token: str | None = None
    locked_until: str | None = None
    message: str = ""


def _policy() -> tuple[int, int, timedelta]:
    t = load_domain().thresholds
    return (
        int(t["signin_max_failures"]),
        int(t["signin_client_max_failures"]),
        timedelta(minutes=float(t["signin_lockout_minutes"])),
    )


def _ts(at: datetime) -> str:
    return at.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def locked_until(home: Path | str | None, username: str, client: str = "") -> str | None:
    """When the lock on this username (or client) ends, if one is active now."""
    now = _ts(datetime.now(UTC))
    subjects = [f"user:{normalise(username)}"] + ([f"client:{client}"] if client else [])
    with connect(home) as con:
        row = con.execute(
            f"select max(until) as until from signin_locks where until > ? and subject in "
            f"({', '.join('?' * len(subjects))})",
            [now, *subjects],
        ).fetchone()
    return row["until"] if row and row["until"] else None


def _record_failure(home: Path | str | None, username: str, client: str) -> str | None:
    """Count a failed sign-in; lock (and journal the lock) when it reaches the limit."""
    max_user, max_client, span = _policy()
    now = datetime.now(UTC)
    since = _ts(now - span)
    until = None
    with transaction(home) as tx:
        tx.execute(
            "insert into signin_attempts (at, username, client, ok) values (?, ?, ?, 0)",
            [_ts(now), username, client],
        )
        checks = [("user", username, "username", max_user)]
        if client:
            checks.append(("client", client, "client", max_client))
        for kind, value, column, limit in checks:
            subject = f"{kind}:{value}"
            last_lock = tx.execute(
                "select max(until) as u from signin_locks where subject = ?", [subject]
            ).fetchone()["u"]
            last_ok = tx.execute(
                f"select max(at) as a from signin_attempts where {column} = ? and ok = 1",
                [value],
            ).fetchone()["a"]
            start = max(x for x in (since, last_lock, last_ok) if x)
            failures = tx.execute(
                f"select count(*) as n from signin_attempts where {column} = ? and ok = 0 "
                "and at > ?",
                [value, start],
            ).fetchone()["n"]
            if failures >= limit:
                until = _ts(now + span)
                tx.execute(
                    "insert into signin_locks (subject, locked_at, until) values (?, ?, ?)",
                    [subject, _ts(now), until],
                )
                append(
                    tx,
                    submission_id=f"signin:{subject}:{_ts(now)}",
                    entry="signin_locked",
                    at=_ts(now),
                    actor=username if kind == "user" else client,
                    role="-",
                    kind="signin",
                    comment=f"{kind} {value} locked until {until} after {failures} failed "
                    f"sign-ins within {span.total_seconds() / 60:g} minutes",
                )
    return until


def sign_in(home: Path | str | None, username: str, password: str, client: str = "") -> SignIn:
    """Check a password under the throttle; on success open a session."""
    name = normalise(username)
    until = locked_until(home, name, client)
    if until:
        return SignIn(None, locked_until=until, message=_locked_message(until))
    user = authenticate(home, name, password)
    if user is None:
        until = _record_failure(home, name, client)
        if until:
            return SignIn(None, locked_until=until, message=_locked_message(until))
        return SignIn(None, message="Unknown user, wrong password, or the user is disabled.")
    with transaction(home) as tx:
        tx.execute(
            "insert into signin_attempts (at, username, client, ok) values (?, ?, ?, 1)",
            [now_utc(), name, client],
        )
    return SignIn(user, token=open_session(home, user.username))


def _locked_message(until: str) -> str:
    shown = _parse(until).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"Too many failed sign-ins: this account is locked until {shown}."


def open_session(home: Path | str | None, username: str) -> str:
    """A new session token for an existing user (after a password or OIDC sign-in)."""
    lifetime = timedelta(minutes=load_settings(home).session_lifetime_minutes)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with transaction(home) as tx:
        tx.execute(
            "insert into sessions (token_sha, username, created_at, expires_at) "
            "values (?, ?, ?, ?)",
            [_sha(token), normalise(username), _ts(now), _ts(now + lifetime)],
        )
    return token


def session_username(home: Path | str | None, token: str | None) -> str | None:
    """The username of a live session (not expired, not ended), else None."""
    if not token:
        return None
    with connect(home) as con:
        row = con.execute(
            "select username from sessions where token_sha = ? and ended_at is null "
            "and expires_at > ?",
            [_sha(token), _ts(datetime.now(UTC))],
        ).fetchone()
    return row["username"] if row else None


def session_user(home: Path | str | None, token: str | None) -> User | None:
    """The enabled user of a live session (loaded from the store now), else None."""
    name = session_username(home, token)
    if name is None:
        return None
    user = get_user(home, name)
    return user if user is not None and not user.disabled else None


def end_session(home: Path | str | None, token: str | None) -> None:
    if not token:
        return
    with transaction(home) as tx:
        tx.execute(
            "update sessions set ended_at = ? where token_sha = ? and ended_at is null",
            [now_utc(), _sha(token)],
        )
