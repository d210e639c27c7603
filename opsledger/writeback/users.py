"""Sign-in users: argon2id password hashes, roles and permissions from the domain model."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from opsledger.models import load_domain
from opsledger.writeback.store import append, connect, now_utc, set_user, transaction

_HASHER = PasswordHasher()
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 8


class WritebackError(ValueError):
    """A write-back request that cannot be accepted; the message is for the user."""


class PermissionDenied(WritebackError):
    """The user's role does not allow this action."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    disabled: bool = False

    @property
    def permissions(self) -> tuple[str, ...]:
        return permissions(self.role)

    def can(self, permission: str) -> bool:
        return permission in self.permissions


def roles() -> dict[str, dict]:
    return load_domain().roles


def permissions(role: str) -> tuple[str, ...]:
    spec = roles().get(role)
    return tuple(spec["permissions"]) if spec else ()


def normalise(username: str | None) -> str:
    """Usernames are stored and compared trimmed and case-folded."""
    return (username or "").strip().casefold()


def same_user(a: str | None, b: str | None) -> bool:
    return normalise(a) == normalise(b)


def authorize(
    home: Path | str | None, actor: str | User | None, permission: str, action: str
) -> User:
    """The acting user, loaded from the store now, when enabled and allowed `permission`.

    `actor` is a username, a session token (opsledger.writeback.access) or a User, of
    which only the name is used: a role or flag a caller put into a User is never
    trusted, a user disabled since the caller looked it up is refused."""
    if isinstance(actor, User):
        name = actor.username
    elif isinstance(actor, str) and actor.startswith("ols_"):
        from opsledger.writeback.access import session_username

        name = session_username(home, actor)
        if name is None:
            raise PermissionDenied(f"Your session has expired: sign in again to {action}.")
    else:
        name = actor
    if not name:
        raise PermissionDenied(f"Sign in to {action}.")
    user = get_user(home, name)
    if user is None:
        raise PermissionDenied(f"Unknown user {normalise(name)!r}: sign in to {action}.")
    if user.disabled:
        raise PermissionDenied(f"User {user.username!r} is disabled.")
    if not user.can(permission):
        raise PermissionDenied(
            f"Your role {user.role!r} cannot {action} (needs the {permission!r} permission)."
        )
    return user


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def users_add(home: Path | str | None, username: str, role: str, password: str) -> User:
    username = normalise(username)
    if not USERNAME_RE.match(username):
        raise WritebackError(
            "Usernames are 2-64 characters: lower-case letters, digits, '.', '_' or '-'."
        )
    if role not in roles():
        raise WritebackError(f"Unknown role {role!r}; one of: {', '.join(roles())}.")
    if len(password) < MIN_PASSWORD:
        raise WritebackError(f"Passwords need at least {MIN_PASSWORD} characters.")
    hashed = hash_password(password)
    with transaction(home) as con:
        if con.execute("select 1 from users where username = ?", [username]).fetchone():
            raise WritebackError(f"User {username!r} already exists.")
        at = now_utc()
        journal = append(
            con,
            submission_id=f"user:{username}",
            entry="user_added",
            at=at,
            actor="cli",
            role="admin",
            comment=f"role {role}",
            payload=_user_payload(role, hashed, False),
        )
        set_user(
            con,
            {
                "username": username,
                "role": role,
                "password_hash": hashed,
                "disabled": 0,
                "created_at": at,
            },
            journal,  # type: ignore[arg-type]
        )
    return User(username, role)


def _user_payload(role: str, password_hash: str, disabled: bool) -> str:
    """What a user entry of the journal records: enough to check the users row against
    (the password hash only as its digest)."""
    import json

    return json.dumps(
        {
            "role": role,
            "password_sha256": hashlib.sha256(password_hash.encode()).hexdigest(),
            "disabled": disabled,
        },
        sort_keys=True,
    )


def users_list(home: Path | str | None) -> list[dict]:
    with connect(home) as con:
        rows = con.execute(
            "select username, role, disabled, created_at from users order by username"
        ).fetchall()
    return [
        {
            "username": r["username"],
            "role": r["role"],
            "disabled": bool(r["disabled"]),
            "created_at": r["created_at"],
        }
        for r in rows
    ]


def users_disable(home: Path | str | None, username: str) -> bool:
    """Disable a user (they can no longer sign in or act). False when already disabled."""
    username = normalise(username)
    with transaction(home) as con:
        row = con.execute("select * from users where username = ?", [username]).fetchone()
        if row is None:
            raise WritebackError(f"No user {username!r}.")
        if row["disabled"]:
            return False
        journal = append(
            con,
            submission_id=f"user:{username}",
            entry="user_disabled",
            at=now_utc(),
            actor="cli",
            role="admin",
            payload=_user_payload(row["role"], row["password_hash"], True),
        )
        set_user(con, dict(row) | {"disabled": 1}, journal)  # type: ignore[arg-type]
    return True


def get_user(home: Path | str | None, username: str) -> User | None:
    with connect(home) as con:
        row = con.execute(
            "select username, role, disabled from users where username = ?",
            [normalise(username)],
        ).fetchone()
    return User(row["username"], row["role"], bool(row["disabled"])) if row else None


def authenticate(home: Path | str | None, username: str, password: str) -> User | None:
    """The user when the password matches and the user is enabled, else None (no
    throttling here: the app signs in through opsledger.writeback.access.sign_in)."""
    with connect(home) as con:
        row = con.execute(
            "select username, role, disabled, password_hash from users where username = ?",
            [normalise(username)],
        ).fetchone()
    if row is None:
        _HASHER.hash(password)  # same work either way: no user-enumeration timing
        return None
    if not verify_password(row["password_hash"], password) or row["disabled"]:
        return None
    return User(row["username"], row["role"], False)
