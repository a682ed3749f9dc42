"""`up` after a crash cleans up first, and `down` leaves the machine as it was: no namespaces, interfaces,
iptables chains or ipsets in the host namespace, processes or files of the lab remain."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from tenancy.lab import down, netns, state, status, up
from tenancy.lab.state import LabState


def _host_snapshot(workdir) -> dict[str, object]:
    """The host's state as a lab could change it. Namespaces of other labs (a parallel test worker's session lab, a
    colleague's lab) come and go on their own: only this lab's namespaces are compared."""
    own = netns.ns_name(netns.lab_id(workdir), "")

    def lines(cmd: list[str]) -> list[str]:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        return sorted(proc.stdout.splitlines()) if proc.returncode == 0 else [f"<{cmd[0]} unavailable>"]

    links = sorted(line.split(":")[1].strip().split("@")[0] for line in lines(["ip", "-o", "link", "show"]))
    chains = [line for line in lines(["iptables-save"]) if line.startswith((":", "*"))]
    return {"netns": netns.list_names(own), "links": links, "iptables-chains": chains,
            "ipsets": lines(["ipset", "list", "-n"]), "routes": lines(["ip", "route", "show"])}


def _children_of_lab(workdir) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if str(workdir).encode() in f.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


def test_up_after_a_crash_then_down_leaves_nothing(tmp_path):
    workdir = tmp_path / "crash-lab"
    before = _host_snapshot(workdir)
    bins = up.binaries()
    try:
        first = up.up(workdir, bins)
        # A crash: every process of the lab killed at once, the state file and namespaces left behind.
        for proc in first.processes:
            os.kill(proc.pid, signal.SIGKILL)
        time.sleep(0.5)
        assert not any(state.alive(p) for p in first.processes)
        assert netns.list_names(netns.ns_name(first.lab_id, ""))
        second = up.up(workdir, bins)
        assert all(state.alive(p) for p in second.processes)
        assert status.collect(workdir)["healthy"]
        assert [p.name for p in LabState.load(workdir).processes] == [p.name for p in first.processes]
    finally:
        down.teardown(workdir)
    time.sleep(0.2)
    assert not workdir.exists(), "down removes the work directory it was given to create"
    assert _children_of_lab(workdir) == []
    assert _host_snapshot(workdir) == before
