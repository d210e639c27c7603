"""The `opsledger` command line."""

from __future__ import annotations

import json
import os
from contextlib import nullcontext as _nullcontext
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from opsledger.autorefresh import DEFAULT_DEBOUNCE
from opsledger.core.environment import PASSWORD_ENV, USER_PASSWORD_ENV, environment
from opsledger.core.paths import HOME_ENV, HomePaths
from opsledger.exit_codes import CommandError, ExitCode, ScriptableGroup, emit_json
from opsledger.progress import count_progress, fraction_progress

if TYPE_CHECKING:
    from opsledger.refresh import RefreshResult

# Telemetry off unless the user explicitly turned it on.
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")

app = typer.Typer(
    cls=ScriptableGroup,  # every outcome: an exit code, under --json one JSON object
    help="opsledger: one governed version of operational truth for ecommerce.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
model_app = typer.Typer(help="The domain model and its generated dbt seeds.", no_args_is_help=True)
app.add_typer(model_app, name="model")
import_app = typer.Typer(
    help="Import a merchant's own exports as contract events.", no_args_is_help=True
)
app.add_typer(import_app, name="import")
users_app = typer.Typer(help="Sign-in users of the app and their roles.", no_args_is_help=True)
app.add_typer(users_app, name="users")
events_app = typer.Typer(
    help="Where an event is; an admin revokes loaded events (audited).", no_args_is_help=True
)
app.add_typer(events_app, name="events")
audit_app = typer.Typer(help="The write-back audit journal.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

console = Console()

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        envvar=HOME_ENV,
        help="opsledger home directory (default ./data).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"opsledger {version('opsledger')}")
        raise typer.Exit()


@app.callback()
def _main(
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    # a bad OPSLEDGER_* value stops every command at once, with its name (exit 6)
    environment()


def _print_counts(title: str, counts: dict[str, object]) -> None:
    table = Table(title=title, show_header=False)
    for key, value in counts.items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    console.print(table)


@app.command()
def generate(
    home: HomeOption = None,
    scale: Annotated[float, typer.Option(help="1 = one year of a mid-market retailer.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Same seed, same files.")] = 1,
    imperfections: Annotated[
        float, typer.Option(help="Share of events with realistic delivery defects.")
    ] = 0.002,
    end: Annotated[
        str | None,
        typer.Option(
            help="Last simulated day, YYYY-MM-DD (default today; an explicit past date "
            "gives the same files for the same seed)."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write a simulated operation into <home>/landing/, one folder per source."""
    from datetime import date

    from opsledger.ingest.simulator import generate as run_generate

    if scale <= 0:
        raise typer.BadParameter("--scale must be > 0")
    try:
        end_date = date.fromisoformat(end) if end else None
    except ValueError as exc:
        raise typer.BadParameter(f"--end must be a date YYYY-MM-DD, got {end!r}") from exc
    paths = HomePaths.at(home).ensure()
    with fraction_progress(enabled=not as_json) as progress:
        try:
            summary = run_generate(
                paths.root,
                scale=scale,
                seed=seed,
                imperfection_rate=imperfections,
                progress=progress,
                end=end_date,
            )
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
    if as_json:
        emit_json(summary)
    else:
        console.print(f"Landing files written to [bold]{paths.landing}[/bold]")
        _print_counts("generate", {k: v for k, v in summary.items() if not isinstance(v, dict)})


@app.command()
def ingest(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """Load new landing files into the raw layer (validate, dedupe, quarantine)."""
    from opsledger.ingest.pipeline import run_ingest

    paths = HomePaths.at(home).ensure()
    with count_progress(enabled=not as_json) as progress:
        summary = run_ingest(paths.root, progress=progress)
    result = summary.to_dict()
    if as_json:
        emit_json({k: v for k, v in result.items() if k != "per_file"})
        return
    _print_counts(
        "ingest",
        {k: result[k] for k in ("files", "files_skipped", "rows_read", "loaded", "duplicates")}
        | {k: result[k] for k in ("quarantined", "released", "seconds")},
    )


MemoryLimitOption = Annotated[
    str | None,
    typer.Option(
        "--memory-limit",
        help="DuckDB's memory limit for this build, such as 6GB (default: [build]"
        " memory_limit of settings.toml, 3GB). S=16 (~30 M events) needs ~6GB.",
    ),
]


def _check_memory_limit(memory_limit: str | None) -> None:
    """A flag that is not a size is a usage error, before anything runs."""
    from opsledger.core.settings import SettingsError, checked_memory_limit

    if memory_limit is not None:
        try:
            checked_memory_limit(memory_limit, "--memory-limit")
        except SettingsError as exc:
            raise CommandError(ExitCode.USAGE, str(exc)) from exc


@app.command()
def build(
    home: HomeOption = None,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Rebuild incremental models.")
    ] = False,
    memory_limit: MemoryLimitOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sync raw events into <home>/build.duckdb and run dbt build (models and tests)."""
    from opsledger.build import build_warehouse
    from opsledger.refresh import refresh_lock

    _check_memory_limit(memory_limit)
    paths = HomePaths.at(home)
    # the refresh's lock: both write builds/dbt (dbt's target and logs)
    with (
        refresh_lock(paths),
        console.status("dbt build", spinner="dots") if not as_json else _nullcontext(),
    ):
        result = build_warehouse(paths.root, full_refresh=full_refresh, memory_limit=memory_limit)
    summary = {
        "success": result.success,
        "build_db": str(result.build_db),
        "timings": result.timings,
        "failures": result.dbt.failures,
        "error": result.dbt.error,
    }
    if not as_json:
        for failure in result.dbt.failures:
            console.print(f"[red]{failure['status']}[/red] {failure['name']}: {failure['message']}")
        console.print(f"build {'succeeded' if result.success else 'FAILED'} in {result.timings}")
    if not result.success:
        tests_only = result.dbt.only_data_tests_failed
        raise CommandError(
            ExitCode.GATE_FAILED if tests_only else ExitCode.BUILD_FAILED,
            result.dbt.error or f"{len(result.dbt.failures)} dbt nodes failed",
            details=summary,
        )
    if as_json:
        emit_json(summary)


@app.command()
def refresh(
    home: HomeOption = None,
    as_json: JsonOption = False,
    full_audit: Annotated[
        bool,
        typer.Option(
            "--full-audit",
            help="Audit every row (every dbt test, every quality suite), not only what"
            " this build wrote; a full audit also runs once every"
            " [audit] full_audit_every_hours (default 24).",
        ),
    ] = False,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="What builds the warehouse: duckdb, or spark (Apache Spark in this"
            " process; `make install-spark`, Java 17). Either publishes the same"
            " <home>/warehouse.duckdb.",
        ),
    ] = "duckdb",
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Build and publish even when nothing is new (by default such a refresh"
            " keeps the current publication and says so).",
        ),
    ] = False,
    memory_limit: MemoryLimitOption = None,
) -> None:
    """Ingest, build a copy, audit it (dbt tests + quality suites), publish it atomically;
    with nothing new (same raw, same project, no node's staleness due) keep the publication."""
    from opsledger.refresh import run_refresh

    _check_engine(engine)
    _check_memory_limit(memory_limit)
    if as_json:
        result = run_refresh(
            home, full_audit=full_audit, engine=engine, force=force, memory_limit=memory_limit
        )
    else:
        with console.status("refresh", spinner="dots") as spinner:
            result = run_refresh(
                home,
                progress=lambda stage: spinner.update(f"refresh: {stage}"),
                full_audit=full_audit,
                engine=engine,
                force=force,
                memory_limit=memory_limit,
            )
    if not as_json:
        for failure in result.dbt_failures:
            console.print(
                f"[red]dbt {failure['status']}[/red] {failure['name']}: {failure['message']}"
            )
        for failure in result.gate_failures:
            console.print(
                f"[red]gate failed[/red] {failure['suite']}.{failure['expectation']}:"
                f" observed {failure['observed_value']}"
            )
        for warning in result.gate_warnings:
            console.print(
                f"[yellow]gate warning[/yellow] {warning['suite']}.{warning['expectation']}"
            )
        _print_counts(
            "refresh",
            {"status": result.status, "audit": result.audit} | result.ingest | result.timings,
        )
        if result.failed_build:
            console.print(f"failing build kept for inspection: {result.failed_build}")
    if not result.current:
        raise CommandError(_refresh_exit_code(result), result.message, details=result.to_dict())
    if result.status == "unchanged" and not as_json:
        console.print(result.message)
    if as_json:
        emit_json(result.to_dict())


def _check_engine(engine: str) -> None:
    """An engine this install can run, or a usage error saying what is missing."""
    import importlib.util
    import shutil

    from opsledger.refresh import ENGINES

    if engine not in ENGINES:
        raise CommandError(
            ExitCode.USAGE, f"unknown engine {engine!r}: one of {', '.join(ENGINES)}"
        )
    if engine == "spark" and importlib.util.find_spec("pyspark") is None:
        raise CommandError(
            ExitCode.USAGE, "the spark engine needs the spark extra: make install-spark"
        )
    if engine == "spark" and shutil.which("java") is None:
        raise CommandError(ExitCode.USAGE, "the spark engine needs Java 17 (java on PATH)")


def _refresh_exit_code(result: RefreshResult) -> ExitCode:
    """A refresh that published nothing: the build broke (4), or it built and the
    audit failed, dbt data tests or the quality gate (5)."""
    from opsledger.dbt_project import only_data_tests_failed

    if result.status == "gate_failed" or only_data_tests_failed(result.dbt_failures):
        return ExitCode.GATE_FAILED
    return ExitCode.BUILD_FAILED


@app.command()
def status(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """Show what is published, when, from how many events, and the last gate's results."""
    from opsledger.status import read_status

    info = read_status(home)
    if as_json:
        emit_json(info)
        return
    published = info["published"]
    if published is None:
        console.print("Nothing published yet: run `opsledger refresh`.")
    else:
        _print_counts(
            "published warehouse",
            {
                "file": published["warehouse"],
                "published at (UTC)": published["published_at"],
                "events": published["events_total"],
                "dbt tests passed / warned": f"{published['dbt_tests_passed']} / {published['dbt_tests_warned']}",
                "gate": "passed" if published["gate_success"] else "FAILED",
                "audit": published["audit"] or "?",
                "built by": published["engine"],
                "last full audit (UTC)": published["last_full_audit_at"] or "never",
                "gate expectations": published["gate"]["expectations"],
                "gate warnings": published["gate_warnings"],
            },
        )
        for name in published["gate"]["failed"]:
            console.print(f"  [yellow]warning[/yellow] {name}")
    if info["last_refresh"] and not info["last_refresh"]["current"]:
        last = info["last_refresh"]
        console.print(
            f"[red]last refresh {last['status']}[/red] at {last.get('finished_at') or '?'}"
            f" (stage {last.get('stage') or '?'}): {last['message']}"
        )
        if last.get("showing_instead"):
            console.print(f"  readers still see publication {last['showing_instead']}")
        for name in last.get("failing", [])[:20]:
            console.print(f"  [red]failed[/red] {name}")
        for failure in last.get("first_failures", []):
            for row in failure["rows"][:5]:
                console.print(f"    {failure['check']}: {row}")
        if last.get("failed_build"):
            console.print(f"  failing build kept for inspection: {last['failed_build']}")


@app.command()
def kpi(
    name: Annotated[str | None, typer.Argument(help="KPI id (see --list).")] = None,
    home: HomeOption = None,
    start: Annotated[
        datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="First day.")
    ] = None,
    end: Annotated[
        datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day.")
    ] = None,
    channel: Annotated[list[str] | None, typer.Option(help="Channel (repeatable).")] = None,
    node: Annotated[list[str] | None, typer.Option(help="Node (repeatable).")] = None,
    category: Annotated[list[str] | None, typer.Option(help="Category (repeatable).")] = None,
    product_class: Annotated[
        list[str] | None, typer.Option(help="Product class (repeatable).")
    ] = None,
    supplier: Annotated[list[str] | None, typer.Option(help="Supplier (repeatable).")] = None,
    state: Annotated[list[str] | None, typer.Option(help="Stock state (repeatable).")] = None,
    by: Annotated[
        list[str] | None,
        typer.Option(help="Group by a dimension and/or day, week, month (repeatable)."),
    ] = None,
    list_kpis: Annotated[bool, typer.Option("--list", help="List the KPI definitions.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Any governed KPI for any slice, with numerator, denominator and fact rows."""
    from opsledger.kpi_command import run_kpi_command

    filters = {
        "channel": channel,
        "node": node,
        "category": category,
        "product_class": product_class,
        "supplier": supplier,
        "state": state,
    }
    run_kpi_command(
        HomePaths.at(home),
        name,
        start.date() if start else None,
        end.date() if end else None,
        {d: tuple(v) for d, v in filters.items() if v},
        by or [],
        list_kpis=list_kpis,
        as_json=as_json,
        console=console,
    )


@app.command()
def serve(
    home: HomeOption = None,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on (default 127.0.0.1; 0.0.0.0 for a team, behind a "
            "TLS reverse proxy: see docs/deployment.md)."
        ),
    ] = "127.0.0.1",
    auto_refresh: Annotated[
        float,
        typer.Option(
            help="Refresh this many seconds after the last write-back submission "
            "(debounced); 0 turns it off."
        ),
    ] = DEFAULT_DEBOUNCE,
    watch: Annotated[
        bool,
        typer.Option(help="Run `opsledger watch` beside the app (publish arrivals as they land)."),
    ] = True,
) -> None:
    """Start the Streamlit app (127.0.0.1 unless --host), reading the published warehouse."""
    from opsledger.app.serve import serve as run_app

    # a bad settings.toml raises SettingsError: bad input (6)
    run_app(HomePaths.at(home).root, port, auto_refresh, host=host, watch=watch)


@app.command()
def demo(
    home: HomeOption = None,
    scale: Annotated[float, typer.Option(help="Simulation scale.")] = 0.1,
    seed: Annotated[int, typer.Option()] = 1,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8501,
    live: Annotated[
        bool,
        typer.Option(
            help="After the back-fill, keep emitting the same world's next events into "
            "landing/ as their time comes; the watcher publishes them."
        ),
    ] = False,
    every: Annotated[float, typer.Option(help="Seconds between live emissions.")] = 5.0,
) -> None:
    """Generate a simulated operation, refresh (ingest, build, audit, publish), serve the app."""
    feed = None
    if live:
        from opsledger.live_demo import back_fill

        feed = back_fill(HomePaths.at(home).root, scale=scale, seed=seed)
    else:
        generate(home=home, scale=scale, seed=seed, imperfections=0.002, end=None, as_json=False)
    _demo_users(HomePaths.at(home).root)
    try:
        refresh(home=home, as_json=False)
    except CommandError:
        console.print("[red]refresh did not publish; the app shows the last good warehouse[/red]")
    if feed is None:
        serve(home=home, port=port, auto_refresh=DEFAULT_DEBOUNCE, watch=True)
        return
    from opsledger.live_demo import feeding

    with feeding(feed, every, say=lambda rows: console.print(f"live: {rows}")):
        serve(home=home, port=port, auto_refresh=DEFAULT_DEBOUNCE, watch=True)


@app.command("watch")
def watch_cmd(
    home: HomeOption = None,
    debounce: Annotated[
        float, typer.Option(help="Seconds without new arrivals before a refresh starts.")
    ] = 2.0,
    as_json: JsonOption = False,
) -> None:
    """Publish landing files (and write-back submissions) as they arrive, until SIGTERM
    or Ctrl-C; a failed refresh is logged and retried on the next arrival."""
    from opsledger.watch import watch as run_watch

    def say(event: dict) -> None:
        if as_json:
            print(json.dumps(event), flush=True)
        else:
            details = " ".join(f"{k}={v}" for k, v in event.items() if k not in ("at", "event"))
            console.print(f"{event['at']} [bold]{event['event']}[/bold] {details}")

    run_watch(HomePaths.at(home).root, debounce=debounce, say=say)


@import_app.command("orders")
def import_orders_cmd(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="CSV, .csv.gz, Parquet or Excel export."),
    ],
    mapping: Annotated[
        Path,
        typer.Option(
            "--mapping", exists=True, dir_okay=False, help="YAML column mapping (see mappings/)."
        ),
    ],
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Turn an order-line export into contract events in <home>/landing (idempotent)."""
    from opsledger.importers import import_orders

    # a malformed file or mapping raises MappingError / ImportFailed: bad input (6)
    _show_import(import_orders(HomePaths.at(home).ensure().root, file, mapping), as_json)


@import_app.command("shopify")
def import_shopify_cmd(
    directory: Annotated[
        Path,
        typer.Argument(
            exists=True, file_okay=False, help="Folder of Shopify Admin API JSON payloads."
        ),
    ],
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Turn Shopify Admin API payloads into contract events in <home>/landing."""
    from opsledger.importers import import_shopify

    _show_import(import_shopify(HomePaths.at(home).ensure().root, directory), as_json)


def _show_import(summary, as_json: bool) -> None:
    data = summary.to_dict()
    if not as_json:
        keys = (
            "rows_read",
            "event_rows",
            "non_product_rows",
            "duplicate_rows",
            "quarantined",
            "events_total",
            "matched_returns",
            "unmatched_returns",
            "seconds",
        )
        _print_counts("import", {k: data[k] for k in keys if k in data})
        _print_counts("events written", data["events_written"])
        if data.get("quarantine_reasons"):
            _print_counts("quarantined", data["quarantine_reasons"])
        console.print(data["reconciliation"])
    if not summary.reconciles:
        raise CommandError(
            ExitCode.FAILED, f"the import does not reconcile: {data['reconciliation']}", data
        )
    if as_json:
        emit_json(data)


@users_app.command("add")
def users_add_cmd(
    username: Annotated[str, typer.Argument(help="Sign-in name (lower case).")],
    role: Annotated[
        str,
        typer.Option(
            "--role", help="executive|planner|analyst|warehouse_lead|finance_approver|admin"
        ),
    ],
    password: Annotated[
        str,
        typer.Option(
            "--password",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar=USER_PASSWORD_ENV,
            help="Prompted when omitted; never stored, only its argon2 hash.",
        ),
    ],
    home: HomeOption = None,
) -> None:
    """Add a sign-in user with a role."""
    from opsledger.writeback import WritebackError, users_add

    try:
        users_add(HomePaths.at(home).ensure().root, username, role, password)
    except WritebackError as exc:
        raise typer.BadParameter(str(exc)) from exc
    console.print(f"added {username} ({role})")


@users_app.command("list")
def users_list_cmd(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """List sign-in users, their roles and whether they are disabled."""
    from opsledger.writeback import users_list

    users = users_list(HomePaths.at(home).ensure().root)
    if as_json:
        emit_json({"users": users})
        return
    table = Table("username", "role", "disabled", "created_at")
    for user in users:
        table.add_row(*(str(user[k]) for k in ("username", "role", "disabled", "created_at")))
    console.print(table)


@users_app.command("disable")
def users_disable_cmd(
    username: Annotated[str, typer.Argument(help="Sign-in name.")], home: HomeOption = None
) -> None:
    """Disable a user: they can no longer sign in."""
    from opsledger.writeback import WritebackError, users_disable

    try:
        changed = users_disable(HomePaths.at(home).ensure().root, username)
    except WritebackError as exc:
        raise typer.BadParameter(str(exc)) from exc
    console.print(f"{username} {'disabled' if changed else 'was already disabled'}")


@events_app.command("show")
def events_show_cmd(
    event_id: Annotated[str, typer.Argument(help="The event's event_id.")],
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Where an event is (loaded, quarantined, held, revoked) and what it touched."""
    from opsledger.events import show_event

    info = show_event(home, event_id)
    if as_json:
        emit_json(info)
        return
    console.print(f"{event_id}: [bold]{info['state']}[/bold]")
    if info["raw"]:
        raw = info["raw"]
        console.print(
            f"  loaded from {raw['source_file']} line {raw['line_number']} "
            f"(batch {raw['batch_id']}, {raw['event_type']})"
        )
    for q in info["quarantine"]:
        console.print(f"  quarantine: {q['reason']} {q['detail'] or ''} ({q['source_file']})")
    for r in info["revocations"]:
        console.print(f"  revoked {r['at']} by {r['actor']} ({r['role']}): {r['reason']}")
    touched = info["touched"]
    for m in touched.get("stock_movements", []):
        console.print(
            f"  moved {m['quantity']} {m['sku']}: {m['from_node']}/{m['from_state']} -> "
            f"{m['to_node']}/{m['to_state']}"
        )
    for e in touched.get("ledger_exceptions", []):
        console.print(f"  listed in ledger exception {e}")


@events_app.command("revoke")
def events_revoke_cmd(
    event_ids: Annotated[list[str], typer.Argument(help="event_id of each loaded event.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")],
    user: Annotated[str, typer.Option("--user", help="An admin's sign-in name.")],
    password: Annotated[
        str,
        typer.Option(
            "--password",
            prompt=True,
            hide_input=True,
            envvar=PASSWORD_ENV,
            help="The admin's password (prompted when omitted).",
        ),
    ],
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke loaded events (admin): moved to quarantine as `revoked`, audited; the next
    refresh rebuilds what they touched."""
    from opsledger.events import revoke_events
    from opsledger.writeback import PermissionDenied, WritebackError, authenticate

    root = HomePaths.at(home).ensure().root
    who = authenticate(root, user, password)
    try:
        if who is None:
            raise PermissionDenied("Unknown user or wrong password.")
        result = revoke_events(root, who, event_ids, reason)
    except PermissionDenied as exc:
        raise CommandError(ExitCode.FAILED, str(exc), name="denied") from exc
    except WritebackError as exc:  # e.g. an event that is not loaded
        raise CommandError(ExitCode.BAD_INPUT, str(exc)) from exc
    if as_json:
        emit_json(result.to_dict())
        return
    for r in result.revoked:
        console.print(f"revoked {r['event_id']} ({r['source']} {r['event_type']})")
    for e in result.already_revoked:
        console.print(f"{e} was already revoked")
    console.print("the next `opsledger refresh` rebuilds what they touched")


@audit_app.command("verify")
def audit_verify_cmd(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """Recompute the hash chain of the write-back journal and the users' records;
    exits 1 and names the first broken record when anything was changed."""
    from opsledger.writeback.chain import verify

    result = verify(HomePaths.at(home).root)
    if not result.ok:
        if not as_json:
            for problem in result.problems[:20]:
                console.print(f"  {problem}")
        raise CommandError(
            ExitCode.FAILED,
            f"audit chain broken at {result.first_broken}",
            details=result.to_dict(),
            name="audit_broken",
        )
    if as_json:
        emit_json(result.to_dict())
    else:
        console.print(f"audit chain intact: {result.entries} journal entries, {result.users} users")


def _demo_users(home: Path) -> None:
    """Demo users with random passwords, printed once (only their hashes are kept)."""
    import secrets

    from opsledger.writeback import users_add, users_list

    existing = {u["username"] for u in users_list(home)}
    table = Table("username", "role", "password (shown once)", title="demo users")
    for role in ("admin", "executive", "planner", "analyst", "warehouse_lead", "finance_approver"):
        username = f"demo_{role}"
        if username in existing:
            continue
        password = secrets.token_urlsafe(12)
        users_add(home, username, role, password)
        table.add_row(username, role, password)
    if table.rows:
        console.print(table)


@model_app.command("export")
def model_export() -> None:
    """Regenerate the dbt seeds, the event reference and the quarantine reasons."""
    from opsledger.models.export import export_seeds
    from opsledger.models.kpi_export import write_kpi_files
    from opsledger.models.reference import write_reasons, write_reference

    for path in [*export_seeds(), write_reference(), write_reasons(), *write_kpi_files()]:
        console.print(f"wrote {path}")


@model_app.command("check")
def model_check() -> None:
    """Fail when the seeds, event reference or quarantine reasons differ from the model."""
    from opsledger.models.export import stale_seeds
    from opsledger.models.kpi_export import stale_kpi_files
    from opsledger.models.reference import reasons_are_current, reference_is_current

    stale = stale_seeds() + ([] if reference_is_current() else ["docs/event-reference.md"])
    stale += [] if reasons_are_current() else ["docs/quarantine-reasons.md"]
    stale += stale_kpi_files()
    if stale:
        raise CommandError(
            ExitCode.FAILED,
            f"stale generated files: {', '.join(stale)}; run `opsledger model export`",
            name="stale",
        )
    console.print("generated files are current")


@app.command("docs")
def docs_cmd(
    home: HomeOption = None,
    open_: Annotated[
        bool, typer.Option("--open", help="Open the sites that exist in the browser.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Where the dbt docs site (models, lineage) and the GX Data Docs of the last
    publication are: plain files that open offline."""
    from opsledger.docs_site import docs_paths, open_docs

    paths = docs_paths(HomePaths.at(home).root)
    if open_:
        open_docs(paths)
    if as_json:
        emit_json(paths.to_dict())
        return
    for label, site in paths.to_dict().items():
        state = (
            "" if site["exists"] else "  [yellow](not built yet: run `opsledger refresh`)[/yellow]"
        )
        console.print(f"{label}: {site['path']}{state}", soft_wrap=True)


if __name__ == "__main__":
    app()
