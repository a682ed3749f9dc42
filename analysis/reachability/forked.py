"""Work split with one forked child: the second half of a list is mapped in a child process while this one maps
the first, and the child's results come back pickled through a pipe.

Loading a large export is mostly YAML parsing (libyaml's events, then Python objects): about 5 s of 8.5 s at
1,000 tenants. It splits cleanly by file, and fork shares the already-read texts without copying them. Used only
where the work is large enough to pay for the fork and the pickling (`worthwhile`); everything else, and any
failure of the child, maps in this process, so results never depend on the split.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def worthwhile(total_bytes: int, threshold: int) -> bool:
    # Linux only: macOS has fork but its system frameworks are not fork-safe (why multiprocessing spawns there),
    # and sched_getaffinity, which counts the CPUs this process may really use, is Linux's.
    return total_bytes >= threshold and sys.platform == "linux" and len(os.sched_getaffinity(0)) > 1


def map_split(items: Sequence[T], fn: Callable[[T], R], split: int) -> list[R]:
    """[fn(item) for item in items], items[split:] computed by a forked child."""
    if split <= 0 or split >= len(items):
        return [fn(item) for item in items]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: map, send, and leave without running any of the parent's exit handlers
        status = 1
        try:
            os.close(read_end)
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # the parent decides what an interrupt means
            data = pickle.dumps([fn(item) for item in items[split:]], protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    done = False
    try:
        first = [fn(item) for item in items[:split]]
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        done = True
        if status != 0 or not data:
            return first + [fn(item) for item in items[split:]]
        return first + pickle.loads(data)
    finally:
        if not done:  # interrupted or failed here: the child must not outlive the load
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
