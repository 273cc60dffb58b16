"""Terminal display of a tagging run: a progress bar with rows/s and ETA, and the closing summary."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from nlp.io.tagging import TagSummary


class RowsPerSecondColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.1f} rows/s" if task.speed else "- rows/s", style="progress.data.speed")


class RichTagProgress:
    """A ``TagProgress`` drawn with rich; use as a context manager around ``tag_file``."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("tagging"),
            BarColumn(),
            MofNCompleteColumn(),
            RowsPerSecondColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
        )
        self._task = None

    def __enter__(self) -> RichTagProgress:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._progress.stop()

    def start(self, total_rows: int | None) -> None:
        self._task = self._progress.add_task("tagging", total=total_rows)

    def advance(self, rows: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, rows)


def summary_table(summary: TagSummary) -> Table:
    table = Table(title="tagging summary", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("rows", f"{summary.rows:,}")
    table.add_row("tagged", f"{summary.tagged:,}")
    for code, count in sorted(summary.errors.items()):
        table.add_row(f"errors: {code}", f"{count:,}")
    if summary.resumed_rows:
        table.add_row("rows done before resume", f"{summary.resumed_rows:,}")
    if summary.unparseable_dates is not None:
        table.add_row("dates missing or unparseable", f"{summary.unparseable_dates:,}")
    table.add_row("seconds", f"{summary.seconds:,.1f}")
    table.add_row("rows/s (this run)", f"{summary.rows_per_second:,.1f}")
    return table
