"""Sign-in users: argon2id password hashes, roles and permissions from the domain model."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from models import load_domain
from opsledger.writeback.store import connect, now_utc, transaction

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


def require(user: User | None, permission: str, action: str) -> User:
    if user is None:
        raise PermissionDenied(f"Sign in to {action}.")
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
    username = username.strip().lower()
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
        con.execute(
            "insert into users (username, role, password_hash, disabled, created_at) "
            "values (?, ?, ?, 0, ?)",
            [username, role, hashed, at],
        )
        con.execute(
            "insert into inbox (submission_id, entry, at, actor, role, comment) "
            "values (?, 'user_added', ?, 'cli', 'admin', ?)",
            [f"user:{username}", at, f"role {role}"],
        )
    return User(username, role)


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
    username = username.strip().lower()
    with transaction(home) as con:
        row = con.execute("select disabled from users where username = ?", [username]).fetchone()
        if row is None:
            raise WritebackError(f"No user {username!r}.")
        if row["disabled"]:
            return False
        con.execute("update users set disabled = 1 where username = ?", [username])
        con.execute(
            "insert into inbox (submission_id, entry, at, actor, role) "
            "values (?, 'user_disabled', ?, 'cli', 'admin')",
            [f"user:{username}", now_utc()],
        )
    return True


def get_user(home: Path | str | None, username: str) -> User | None:
    with connect(home) as con:
        row = con.execute(
            "select username, role, disabled from users where username = ?",
            [username.strip().lower()],
        ).fetchone()
    return User(row["username"], row["role"], bool(row["disabled"])) if row else None


def authenticate(home: Path | str | None, username: str, password: str) -> User | None:
    """The user when the password matches and the user is enabled, else None."""
    with connect(home) as con:
        row = con.execute(
            "select username, role, disabled, password_hash from users where username = ?",
            [username.strip().lower()],
        ).fetchone()
    if row is None:
        _HASHER.hash(password)  # same work either way: no user-enumeration timing
        return None
    if not verify_password(row["password_hash"], password) or row["disabled"]:
        return None
    return User(row["username"], row["role"], False)
