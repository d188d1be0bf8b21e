"""What a person at a terminal sees of long commands: a progress bar per step on a terminal (rich), plain
lines when the output goes to a file or a pipe, and the summary of an ingest run."""

from __future__ import annotations

import sys
from typing import IO


class ProgressReporter:
    """A pipeline.core.progress.Progress that draws: rich bars on a terminal, else a line per tenth of a step."""

    def __init__(self, stream: IO[str] | None = None, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = self.stream.isatty() and not quiet
        self._bars = None
        self._tasks: dict[str, int] = {}
        self._printed: dict[str, int] = {}

    def __enter__(self) -> ProgressReporter:
        if self.live:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), console=Console(file=self.stream), transient=False)
            self._bars.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._bars is not None:
            self._bars.stop()

    def __call__(self, step: str, done: int, total: int | None) -> None:
        if self.quiet:
            return
        if self._bars is not None:
            if step not in self._tasks:
                self._tasks[step] = self._bars.add_task(step, total=total)
            self._bars.update(self._tasks[step], completed=done, total=total)
            return
        tenth = done * 10 // total if total else done  # a line per tenth of a known total
        if self._printed.get(step, -1) >= tenth:
            return
        self._printed[step] = tenth
        print(f"newsmon: {step}: {done}" + (f"/{total}" if total is not None else ""), file=self.stream, flush=True)


def run_summary_lines(report: dict) -> list[str]:
    """`newsmon run`'s summary: what was fetched and how, what is new, what failed and why (one line each)."""
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(report["failed_by_kind"].items()))
    lines = [f"run {report['run_id']}" + (" (outage: nearly every feed failed at the network level; feed state"
                                          " left as it was)" if report["outage"] else ""),
             f"feeds: {report['fetched']} fetched, {report['not_modified']} not modified, {report['failed']} failed"
             + (f" ({kinds})" if kinds else ""),
             f"articles: {report['articles_new']} new, {report['articles_changed']} changed"]
    themes = report["new_articles_per_theme"]
    lines.append("new articles per theme: " + (", ".join(f"{t} {n}" for t, n in themes.items()) or "none"))
    for f in report["failing_feeds"]:
        lines.append(f"failed: {f['feed_id']} {f['url']} {f['kind']}: {f['reason']}")
    if report["read_refreshed_at"]:
        lines.append(f"readers see it since {report['read_refreshed_at']:%Y-%m-%d %H:%M:%S} UTC")
    return lines
