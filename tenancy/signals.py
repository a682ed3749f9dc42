"""Ctrl-C and SIGTERM: exit promptly with 130 / 143 and one line on stderr, leaving nothing half-written.

Python's default turns SIGINT into KeyboardInterrupt wherever the main thread happens to be; inside the Pulumi
runtime that exception is caught and the runtime then waits forever for RPCs that will never finish, and SIGTERM
kills the process without running any cleanup. Instead the CLI installs one handler for both: it runs the
registered cleanups (newest first: a staging directory, a git worktree, child processes), prints one line and
leaves with `os._exit`, skipping interpreter teardown (nothing is left to flush but stderr). Code that must not
be cut in half (swapping a finished render into place) runs inside `deferred()`: a signal arriving there is
acted on when the block ends.
"""

from __future__ import annotations

import os
import signal
import sys
from contextlib import contextmanager
from typing import Callable, Iterator

EXIT_CODES: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}
_MESSAGES: dict[int, str] = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}

_cleanups: list[Callable[[], None]] = []
_deferring = 0
_pending: int | None = None


def _leave(signum: int) -> None:
    for cleanup in reversed(_cleanups):
        try:
            cleanup()
        except Exception:  # noqa: BLE001 - best effort: the next cleanup still runs, the exit still happens
            pass
    try:
        clear = "\r\x1b[2K" if sys.stderr.isatty() else ""  # over a progress line, if one is showing
        sys.stderr.write(f"{clear}{_MESSAGES.get(signum, 'stopped')}\n")
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - stderr closed: the exit code still tells
        pass
    os._exit(EXIT_CODES.get(signum, 128 + signum))


def _handler(signum: int, frame: object) -> None:
    global _pending
    if _deferring:
        _pending = signum
        return
    _leave(signum)


def install() -> None:
    """Handle SIGINT and SIGTERM as described above (main thread only, as Python requires)."""
    for signum in EXIT_CODES:
        signal.signal(signum, _handler)


@contextmanager
def cleanup(action: Callable[[], None]) -> Iterator[None]:
    """Run `action` if a signal ends the process inside this block."""
    _cleanups.append(action)
    try:
        yield
    finally:
        _cleanups.remove(action)


@contextmanager
def deferred() -> Iterator[None]:
    """A block a signal must not interrupt; a signal received inside it takes effect when it ends."""
    global _deferring
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if not _deferring and _pending is not None:
            _leave(_pending)
