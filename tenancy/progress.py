"""A progress line for long runs: on stderr, only on a terminal, only once a run has taken `delay` seconds.

Callers update plain counters (cheap enough for hot loops); a background thread starts `rich`'s progress display
after the delay and copies the counters into it a few times a second. Output that is piped or redirected, and
runs that finish quickly, never see it. TENANCY_PROGRESS_DELAY overrides the delay (tests use 0);
TENANCY_NO_PROGRESS=1 turns it off.
"""

from __future__ import annotations

import os
import sys
import threading
from types import TracebackType
from typing import Any

DEFAULT_DELAY = 1.5
_REFRESH = 0.1


def _enabled() -> bool:
    if os.environ.get("TENANCY_NO_PROGRESS"):
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _delay() -> float:
    try:
        return float(os.environ.get("TENANCY_PROGRESS_DELAY", DEFAULT_DELAY))
    except ValueError:
        return DEFAULT_DELAY


class Progress:
    """`with Progress("rendering") as p: p.phase("writing files", total=n); p.advance()`."""

    def __init__(self, description: str, total: int | None = None):
        self.description = description
        self.total = total
        self.completed = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def phase(self, description: str, total: int | None = None) -> None:
        self.description, self.total, self.completed = description, total, 0

    def advance(self, n: int = 1) -> None:
        self.completed += n

    def __enter__(self) -> Progress:
        if _enabled():
            self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        if self._stop.wait(_delay()):
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                              MofNCompleteColumn(), TimeElapsedColumn()]
        with RichProgress(*columns, console=Console(stderr=True), transient=True, auto_refresh=False) as bar:
            task = bar.add_task(self.description, total=self.total)
            while not self._stop.wait(_REFRESH):
                bar.update(task, description=self.description, total=self.total, completed=self.completed)
                bar.refresh()
