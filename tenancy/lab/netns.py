"""Network namespaces of the lab: names, thread-local entry (setns), and the `ip`/`iptables` calls that build them.

Every namespace a lab creates is named `tlab-<id>-<role>` (`<id>` is derived from the work directory), so `down` and a
crash clean-up find them all by prefix even without the state file. The host's own network namespace is never
changed: interfaces, routes, sysctls and iptables rules are made inside the lab's namespaces only.

Entering a namespace is per thread (`setns(2)` with CLONE_NEWNET changes only the calling thread); a socket keeps the
namespace it was created in, so a thread may enter a namespace, create sockets and go back.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import os
import subprocess
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

NETNS_DIR = Path("/run/netns")
CLONE_NEWNET = 0x40000000
PREFIX = "tlab-"

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_fd_lock = threading.Lock()
_fds: dict[str, int] = {}
_self_fd: int | None = None


class NetnsError(RuntimeError):
    """A namespace operation failed; the message names the command and its output."""


def lab_id(workdir: Path) -> str:
    """A short id for the lab of `workdir` (stable for one absolute path)."""
    return hashlib.sha256(str(workdir.resolve()).encode()).hexdigest()[:6]


def ns_name(lid: str, role: str) -> str:
    return f"{PREFIX}{lid}-{role}"


def exists(name: str) -> bool:
    return (NETNS_DIR / name).exists()


def list_names(prefix: str = PREFIX) -> list[str]:
    if not NETNS_DIR.is_dir():
        return []
    return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(prefix))


def run(cmd: Sequence[str], *, netns: str | None = None, input_text: str | None = None,
        check: bool = True, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run a command (in `netns` through `ip netns exec` when given); raise NetnsError with its output on failure."""
    argv = (["ip", "netns", "exec", netns] if netns else []) + list(cmd)
    proc = subprocess.run(argv, input=input_text, capture_output=True, text=True, timeout=timeout,
                          env=_env(), check=False)
    if check and proc.returncode != 0:
        raise NetnsError(f"{' '.join(argv)}: exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()}")
    return proc


def _env() -> dict[str, str]:
    return tool_env()


def tool_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) with the sbin directories on PATH (iptables, ipset, ip)."""
    env = dict(os.environ if base is None else base)
    path = env.get("PATH", "")
    for extra in ("/usr/local/sbin", "/usr/sbin", "/sbin"):
        if extra not in path.split(os.pathsep):
            path = f"{path}{os.pathsep}{extra}" if path else extra
    env["PATH"] = path
    return env


def add(name: str) -> None:
    run(["ip", "netns", "add", name])
    run(["ip", "-n", name, "link", "set", "lo", "up"])


def delete(name: str) -> None:
    """Delete a namespace (its interfaces and rules go with it); a missing one is fine."""
    forget(name)
    if exists(name):
        run(["ip", "netns", "delete", name], check=False)


def sysctl(name: str, settings: dict[str, str]) -> None:
    args = [f"{key}={value}" for key, value in settings.items()]
    run(["sysctl", "-q", "-w", *args], netns=name)


def inode(name: str) -> int | None:
    """The namespace's inode (what /proc/PID/ns/net links to), or None when absent."""
    try:
        return os.stat(NETNS_DIR / name).st_ino
    except OSError:
        return None


def pids_in(inodes: set[int]) -> list[int]:
    """Every process whose network namespace is one of `inodes` (found through /proc/PID/ns/net)."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.stat(entry / "ns" / "net").st_ino in inodes:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _fd(name: str) -> int:
    with _fd_lock:
        fd = _fds.get(name)
        if fd is None:
            fd = os.open(NETNS_DIR / name, os.O_RDONLY | os.O_CLOEXEC)
            _fds[name] = fd
        return fd


def forget(name: str) -> None:
    """Close the cached descriptor of a namespace (before deleting it)."""
    with _fd_lock:
        fd = _fds.pop(name, None)
    if fd is not None:
        os.close(fd)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise NetnsError(f"setns: {os.strerror(err)}")


def _home_fd() -> int:
    """A descriptor of the namespace this process started in (taken once, from the first caller)."""
    global _self_fd
    with _fd_lock:
        if _self_fd is None:
            _self_fd = os.open(f"/proc/{os.getpid()}/task/{threading.get_native_id()}/ns/net",
                               os.O_RDONLY | os.O_CLOEXEC)
        return _self_fd


def enter_process(name: str) -> None:
    """Move the calling thread (the whole process, when called before any thread starts) into `name` for good."""
    global _self_fd
    _setns(_fd(name))
    with _fd_lock:
        if _self_fd is not None:
            os.close(_self_fd)
        _self_fd = os.open(f"/proc/{os.getpid()}/task/{threading.get_native_id()}/ns/net", os.O_RDONLY | os.O_CLOEXEC)


@contextlib.contextmanager
def entered(name: str) -> Iterator[None]:
    """Run the body with the calling thread inside namespace `name`, then return to the process's namespace."""
    home = _home_fd()
    _setns(_fd(name))
    try:
        yield
    finally:
        _setns(home)
