"""A progress bar on stderr for long CLI work (embedding manuals and work orders).

In a terminal it is rich's bar (done/total, rate, time left); piped or in a log it is a
plain line every tenth of the way, so logs stay readable. Never plant data: only counts
and the label the caller gives.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import TextIO

#: update(done, total, label=""): call as work finishes.
Update = Callable[..., None]


@contextlib.contextmanager
def progress_bar(description: str, stream: TextIO | None = None) -> Iterator[Update]:
    """Yield an ``update(done, total, label="")`` that draws the bar."""
    out = stream or sys.stderr
    if out.isatty():
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TaskProgressColumn(), TextColumn("{task.fields[rate]}"),
                   TimeRemainingColumn())  # fmt: skip
        with Progress(*columns, console=Console(file=out), transient=False) as bar:
            task = bar.add_task(description, total=None, rate="")
            started = time.monotonic()

            def draw(done: int, total: int, label: str = "") -> None:
                rate = done / max(time.monotonic() - started, 1e-9)
                bar.update(task, completed=done, total=total, rate=f"{rate:,.0f}/s",
                           description=f"{description} {label}".rstrip())  # fmt: skip

            yield draw
        return
    started = time.monotonic()
    shown = [-1]

    def line(done: int, total: int, label: str = "") -> None:
        tenth = done * 10 // max(total, 1)
        if tenth == shown[0] and done != total:
            return
        shown[0] = tenth
        rate = done / max(time.monotonic() - started, 1e-9)
        out.write(f"  {description}: {done}/{total} {label} ({rate:,.0f}/s)\n".replace("  (", " ("))
        out.flush()

    yield line
