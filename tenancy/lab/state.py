"""The lab's state file (W/state.json) and its processes: what `up` started, so that every other command finds it.

The state file is rewritten after every step of `up`, so a crash at any point leaves enough behind for `down` (or the
next `up`) to remove what was made. Processes are recorded with their kernel start time, so a recycled PID is never
signalled.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tenancy.lab import netns

STATE_FILE = "state.json"
PODS_FILE = "pods.json"
EXIT_CANNOT_RUN = 2
DEFAULT_WORKDIR = Path("build/lab")


class LabError(RuntimeError):
    """A lab command cannot go on; the message is one line for the user."""


@dataclass
class Process:
    name: str
    pid: int
    start_time: int  # /proc/PID/stat field 22, to recognise the same process later
    log: str


@dataclass
class LabState:
    workdir: str
    lab_id: str
    node_netns: str
    outside_netns: str
    node_ip: str
    pod_cidr: str
    node_name: str
    kubeconfig: str
    created_workdir: bool
    processes: list[Process] = field(default_factory=list)
    started_at: float = 0.0
    ready: bool = False

    def save(self) -> None:
        path = Path(self.workdir) / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(path)

    @staticmethod
    def load(workdir: Path) -> LabState:
        path = workdir / STATE_FILE
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raise LabError(f"no lab at {workdir} (no {STATE_FILE}); start one with `tenancy lab up --workdir "
                           f"{workdir}`") from None
        except (OSError, ValueError) as exc:
            raise LabError(f"unreadable lab state {path}: {exc}") from None
        raw["processes"] = [Process(**p) for p in raw.get("processes", [])]
        return LabState(**raw)


def require_linux_root() -> None:
    """The lab needs Linux, root and network namespaces; anything else is one clear error."""
    if platform.system() != "Linux":
        raise LabError(f"the lab needs Linux (network namespaces, iptables); this is {platform.system()}")
    if os.geteuid() != 0:
        raise LabError("the lab needs root (it creates network namespaces and iptables rules); run it as root")


def start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def alive(proc: Process) -> bool:
    """The recorded process still runs (same PID and start time, not a zombie)."""
    return start_time(proc.pid) == proc.start_time and not _zombie(proc.pid)


def spawn(name: str, argv: list[str], workdir: Path, *, netns_name: str | None = None,
          env: dict[str, str] | None = None) -> Process:
    """Start a daemon (inside `netns_name` through `ip netns exec`, which execs it: the PID is the daemon's own),
    logging to W/logs/<name>.log, in its own session so that it outlives the command that started it."""
    log_path = workdir / "logs" / f"{name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    full = (["ip", "netns", "exec", netns_name] if netns_name else []) + argv
    with open(log_path, "ab") as log:
        popen = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True, cwd=workdir, env=netns.tool_env(env), close_fds=True)
    started = None
    for _ in range(100):
        started = start_time(popen.pid)
        if started is not None:
            break
        time.sleep(0.01)
    return Process(name=name, pid=popen.pid, start_time=started or 0, log=str(log_path))


def stop(procs: list[Process], timeout: float = 10.0) -> None:
    """SIGTERM every live process of the list, then SIGKILL what is left after `timeout` seconds."""
    live = [p for p in procs if alive(p)]
    for proc in live:
        _signal(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while live and time.monotonic() < deadline:
        _reap()
        live = [p for p in live if alive(p) and not _zombie(p.pid)]
        if live:
            time.sleep(0.05)
    for proc in live:
        _signal(proc.pid, signal.SIGKILL)
    _reap()


def kill_pids(pids: list[int]) -> None:
    for pid in pids:
        if pid != os.getpid():
            _signal(pid, signal.SIGKILL)
    _reap()


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def lab_processes(prefix: str) -> list[int]:
    """PIDs of every process living in one of the lab's namespaces (found by namespace, not by name)."""
    inodes = {ino for name in netns.list_names(prefix) if (ino := netns.inode(name)) is not None}
    return netns.pids_in(inodes) if inodes else []


def fail(message: str) -> int:
    print(f"lab: {message}", file=sys.stderr)
    return EXIT_CANNOT_RUN
