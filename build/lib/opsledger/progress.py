"""Progress bars for long commands (rich), silent when asked for JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

# Progress goes to stderr so `--json` output on stdout stays machine-readable.
stderr = Console(stderr=True)


@contextmanager
def fraction_progress(enabled: bool = True) -> Iterator[Callable[[str, float], None]]:
    """Yields `update(stage, fraction)` driving one bar per stage."""
    if not enabled:
        yield lambda _stage, _fraction: None
        return
    columns = (TextColumn("{task.description:<24}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=stderr, transient=False) as progress:
        tasks: dict[str, int] = {}

        def update(stage: str, fraction: float) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=1.0)
            progress.update(tasks[stage], completed=min(max(fraction, 0.0), 1.0))

        yield update


@contextmanager
def count_progress(enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """Yields `update(label, done, total)` driving a single bar."""
    if not enabled:
        yield lambda _label, _done, _total: None
        return
    columns = (
        TextColumn("{task.description:<40}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
    )
    with Progress(*columns, console=stderr, transient=False) as progress:
        task = progress.add_task("starting", total=None)

        def update(label: str, done: int, total: int) -> None:
            progress.update(task, description=label[-40:], completed=done, total=total)

        yield update
