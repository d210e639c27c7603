"""How a command ends, defined once: exit codes, the error commands raise, and the
one place (ScriptableGroup, the CLI's click group) that turns every outcome into an
exit code plus, under `--json`, exactly one JSON object on stdout.

Usage (2) means the command line is wrong: an unknown command or option, an option
value of the wrong form, or a name or value the command checks against its catalog
or the data (an unknown KPI, dimension or filter value): fix the arguments. Bad input
(6) means something the command reads is wrong: an import file or mapping, a
settings.toml or OPSLEDGER_* value, a home with nothing published: fix that input.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Sequence
from enum import IntEnum
from typing import Any

import typer
from typer.core import TyperGroup

from opsledger.core.environment import environment
from opsledger.core.errors import BadInput, Busy


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # the command ran and reports a negative result, or an unexpected error
    USAGE = 2  # click's own code for usage errors
    BUSY = 3  # another refresh, build or ingest holds this home's lock
    BUILD_FAILED = 4  # dbt could not build a model
    GATE_FAILED = 5  # the audit failed: dbt data tests or Great Expectations
    BAD_INPUT = 6


# the JSON `error.code` of each exit code
ERROR_NAMES = {
    ExitCode.FAILED: "failed",
    ExitCode.USAGE: "usage",
    ExitCode.BUSY: "busy",
    ExitCode.BUILD_FAILED: "build_failed",
    ExitCode.GATE_FAILED: "gate_failed",
    ExitCode.BAD_INPUT: "bad_input",
}


class CommandError(Exception):
    """A command's failure: its exit code, a one-line message and, for --json, the
    outcome's details (merged into the JSON object beside `ok` and `error`)."""

    def __init__(
        self,
        code: ExitCode,
        message: str,
        details: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        self.name = name or ERROR_NAMES[code]

    def to_dict(self) -> dict[str, Any]:
        error = {"code": self.name, "exit_code": int(self.code), "message": self.message}
        # the outcome's own `ok`/`error` fields (a build's dbt error text) yield to these
        rest = {k: v for k, v in self.details.items() if k not in ("ok", "error")}
        return {"ok": False, "error": error, **rest}


def emit_json(data: dict[str, Any]) -> None:
    """A successful outcome under --json: the command's object, with `ok: true`."""
    typer.echo(json.dumps({"ok": True, **data}, default=str))


def classify(exc: BaseException) -> CommandError | None:
    """The exit code of an error raised below the CLI, by its kind (opsledger.core.errors);
    None for an unexpected error."""
    if isinstance(exc, CommandError):
        return exc
    if isinstance(exc, Busy):
        return CommandError(ExitCode.BUSY, str(exc))
    if isinstance(exc, BadInput):
        return CommandError(ExitCode.BAD_INPUT, str(exc))
    if isinstance(exc, typer.TyperException):  # typer's click: usage errors are 2
        code = exc.exit_code if exc.exit_code in iter(ExitCode) else ExitCode.FAILED
        return CommandError(ExitCode(code), exc.format_message())
    return None


def _wants_json(args: Sequence[str]) -> bool:
    cut = list(args).index("--") if "--" in args else len(args)
    return "--json" in args[:cut]


class ScriptableGroup(TyperGroup):
    """The top-level group: every error, whoever raised it, ends here. Under --json
    the outcome is one JSON object on stdout (no traceback); otherwise one line on
    stderr (usage errors in click's usual form, with the usage line)."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:  # a caller that handles outcomes itself
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        as_json = _wants_json(argv)
        try:
            rv = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.Abort:
            self._fail(CommandError(ExitCode.FAILED, "aborted", name="aborted"), as_json)
        except Exception as exc:
            error = classify(exc)
            if error is None:
                try:
                    debug = environment().debug
                except BadInput:
                    debug = False
                if debug:
                    traceback.print_exc()
                message = f"internal error: {type(exc).__name__}: {exc}"
                if not debug:
                    message += " (OPSLEDGER_DEBUG=1 shows the traceback)"
                error = CommandError(ExitCode.FAILED, message, name="internal")
            if isinstance(exc, typer.TyperException) and not as_json:
                # typer's own rendering: the message with the usage line and --help hint
                from typer import rich_utils

                rich_utils.rich_format_error(exc)
                sys.exit(exc.exit_code)
            self._fail(error, as_json)
        # non-standalone click returns an Exit's code, or the command's return value
        sys.exit(rv if isinstance(rv, int) else 0)

    @staticmethod
    def _fail(error: CommandError, as_json: bool) -> None:
        if as_json:
            typer.echo(json.dumps(error.to_dict(), default=str))
        else:
            # one line: a parser's multi-line message (YAML, SQL) joined
            typer.secho(f"error: {' '.join(error.message.split())}", err=True, fg="red")
        sys.exit(int(error.code))
