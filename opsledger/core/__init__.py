"""The core every other layer stands on: where a home's files are (paths), the
site settings (`<home>/settings.toml`) and the `OPSLEDGER_*` environment
(environment), read-only warehouse connections (readonly) and the kinds of error a
caller can act on (errors). The write-back store (`opsledger.writeback`) belongs to
this layer too.

The rule (tests/test_layers.py): the core imports nothing of opsledger but itself,
the write-back store and the domain model (`opsledger.models`); ingest stands on the
core; the app and the CLI stand on everything below them; nothing below the CLI
imports the CLI, and nothing below the app imports the app.
"""
