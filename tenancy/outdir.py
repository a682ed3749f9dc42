"""The render's output directory: replaced as a whole, and only when this tool made it.

`render --out DIR` writes every file into a staging directory next to DIR and then swaps it in, so a reader sees
the old render or the new one, never a mix and never no directory at all. What DIR may be:

- absent: it is created (missing parents too), readable as the user's umask says;
- a directory this tool rendered: it carries the marker file `.tenancy-render` (renders made before the marker
  existed are recognised by their content: only `*.yaml` files, each starting with the render header);
- an empty directory;
- anything else (a directory of other files, a plain file, a symbolic link, a mount point) is refused with
  `OutputRefused` and left untouched: a render never deletes what it did not write.

The swap is one `renameat2(RENAME_EXCHANGE)` on Linux; elsewhere, or on a filesystem without it, two renames
with a window of a few microseconds. Renders into the same parent are serialised by a lock on the parent
directory; the staging directory is removed on any exception (SIGTERM, while writing, raises one) and one left
by a process that was killed outright is removed by the next render into the same place.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import shutil
import signal
import tempfile
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Callable, ContextManager, Iterator

MARKER = ".tenancy-render"
MARKER_TEXT = ("This directory is written by `python -m tenancy render` and replaced as a whole on every render;\n"
               "files added here are deleted by the next render.\n")
LEGACY_HEADER = "# Rendered by `python -m tenancy render"
STAGING_TAG = "tenancy-staging"

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class OutputRefused(Exception):
    """DIR is not something a render may replace; the message is one line naming it and why."""


class OutputFailed(Exception):
    """Writing the render failed (read-only, disk full, permissions, ...); one line naming the path and the cause.
    Nothing was changed at DIR."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _describe(error: OSError) -> str:
    reason = error.strerror or str(error)
    if error.errno == errno.ENOSPC:
        reason = "no space left on the device"
    elif error.errno == errno.EROFS:
        reason = "read-only file system"
    elif error.errno in (errno.EACCES, errno.EPERM):
        reason = "permission denied"
    elif error.errno == errno.EDQUOT:
        reason = "disk quota exceeded"
    return reason


def _is_legacy_render(path: Path) -> bool:
    """A render made before the marker existed: nothing but `*.yaml` files, each starting with the header."""
    entries = list(os.scandir(path))
    if not entries:
        return False
    for entry in entries:
        if not entry.name.endswith(".yaml") or not entry.is_file(follow_symlinks=False):
            return False
        with open(entry.path, encoding="utf-8", errors="replace") as fh:
            if not fh.read(len(LEGACY_HEADER)) == LEGACY_HEADER:
                return False
    return True


def replaceable(path: Path) -> bool:
    """True when `path` is absent; False when it is a directory a render may replace; raises OutputRefused else."""
    if not os.path.lexists(path):
        return True
    if os.path.islink(path):
        raise OutputRefused(f"{path}: is a symbolic link; a render never replaces or follows one (pass the real "
                            "directory, or a new path)")
    if not path.is_dir():
        raise OutputRefused(f"{path}: exists and is not a directory; refusing to replace it (pass a new path)")
    if os.path.ismount(path):
        raise OutputRefused(f"{path}: is a mount point and cannot be replaced; render into a directory inside it")
    try:
        marker = path / MARKER
        if marker.is_file() and not marker.is_symlink():
            return False
        if not any(os.scandir(path)) or _is_legacy_render(path):
            return False
    except OSError as exc:
        raise OutputFailed(f"{path}: cannot read: {_describe(exc)}") from None
    raise OutputRefused(f"{path}: exists and was not written by `tenancy render` (no {MARKER} marker); refusing to "
                        "replace it (pass a new or empty directory, or remove it yourself)")


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False when this system or filesystem cannot (caller falls back)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Serialise renders swapping into the same parent: an flock on the directory itself leaves no lock file."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While a staging directory exists, SIGTERM raises SystemExit(143) so it is cleaned up, unless the program
    already handles SIGTERM its own way (then that handler decides)."""
    try:
        previous = signal.getsignal(signal.SIGTERM)
        install = previous in (signal.SIG_DFL, None)
        if install:
            signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: signals cannot be handled here
        install = False
    try:
        yield
    finally:
        if install:
            signal.signal(signal.SIGTERM, previous)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_staging(parent: Path, name: str) -> None:
    """Staging directories of renders into `name` whose process is gone (killed outright)."""
    prefix = f".{name}.{STAGING_TAG}."
    for entry in os.scandir(parent):
        if not entry.name.startswith(prefix) or not entry.is_dir(follow_symlinks=False):
            continue
        pid = entry.name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(entry.path, ignore_errors=True)


def replace_directory(out_dir: Path, write: Callable[[Path], None],
                      on_abort: Callable[[Callable[[], None]], ContextManager[None]] | None = None,
                      uninterrupted: Callable[[], ContextManager[None]] | None = None) -> None:
    """Call `write(staging)` to fill a fresh directory, then make it `out_dir` in one step.

    `on_abort(action)` (optional) registers `action` to run should the process be stopped inside the block (the
    CLI's signal handling); `uninterrupted()` (optional) holds signals off while the directories are swapped.
    Raises OutputRefused (nothing touched) when `out_dir` may not be replaced, OutputFailed on I/O errors (the
    old `out_dir`, if any, is left as it was)."""
    target = Path(os.path.abspath(out_dir))
    replaceable(target)
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFailed(f"{parent}: cannot create: {_describe(exc)}") from None
    try:
        with _locked(parent):
            _remove_stale_staging(parent, target.name)
            with _sigterm_unwinds():
                staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.{STAGING_TAG}.{os.getpid()}.", dir=parent))
                abort = on_abort(lambda: shutil.rmtree(staging, ignore_errors=True)) if on_abort else nullcontext()
                swap = uninterrupted if uninterrupted is not None else nullcontext
                with abort:
                    _fill_and_swap(target, staging, write, swap)
    except OSError as exc:
        raise OutputFailed(f"{target}: cannot write the render: {_describe(exc)}; nothing was changed") from None


def _fill_and_swap(target: Path, staging: Path, write: Callable[[Path], None],
                   swap: Callable[[], ContextManager[None]]) -> None:
    """Fill `staging`, swap it in as `target`; `staging` is gone afterwards, whatever happens."""
    try:
        os.chmod(staging, 0o777 & ~_umask())
        write(staging)
        (staging / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        with swap():
            # Checked again under the lock: another process may have put something there meanwhile.
            if replaceable(target):
                try:
                    os.rename(staging, target)
                    return
                except OSError as exc:
                    if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                        raise
                    replaceable(target)
            if not _exchange(staging, target):
                retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.{STAGING_TAG}.{os.getpid()}.",
                                                dir=target.parent))
                os.rename(target, retired / "old")
                try:
                    os.rename(staging, target)
                except OSError:
                    os.rename(retired / "old", target)
                    shutil.rmtree(retired, ignore_errors=True)
                    raise
                os.rename(retired, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
