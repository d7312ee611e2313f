"""Progress bars with counts, rates and time left, on stderr so stdout stays machine-readable."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Items per second (batches, windows, documents...), as rich measures it."""

    def __init__(self, unit: str = "it") -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} {self.unit}/s" if speed else f"? {self.unit}/s", style="progress.data.speed")


UNWRAPPED_WIDTH = 100_000
"""Console width when output goes to a file, a pipe or a test: wide enough that nothing wraps."""


def output_console(*, stderr: bool = False) -> Console:
    """A console for tables and messages: a terminal's own width, else one that never wraps.

    rich wraps at 80 columns when it cannot ask a terminal, so a long path would be cut in two in a
    log file, a pipe or a test; output that is read by programs must not depend on terminal width.
    """
    console = Console(stderr=stderr)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, width=UNWRAPPED_WIDTH, soft_wrap=True)


def progress_bar(console: Console | None = None, unit: str = "it", enabled: bool = True) -> Progress:
    """A rich progress display: description, bar, n/total, rate, elapsed, ETA, and a free ``info`` field."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=console or Console(stderr=True),
        disable=not enabled,
        transient=False,
    )
