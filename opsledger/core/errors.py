"""Kinds of failure a caller can act on, defined once: a command line maps each kind
to its exit code (opsledger.exit_codes) without knowing which module raised it."""

from __future__ import annotations


class Busy(RuntimeError):
    """Another process holds the lock this work needs (a refresh, a build, an ingest);
    trying again later succeeds."""


class BadInput(ValueError):
    """A file, mapping, setting or environment variable the work reads cannot be
    used; the message says which and why."""


class SettingsError(BadInput):
    """A setting (`<home>/settings.toml` or an `OPSLEDGER_*` variable) cannot be used;
    the message says which and why."""
