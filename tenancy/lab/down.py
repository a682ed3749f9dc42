"""`lab down W`: stop every process of the lab, delete its network namespaces (and with them every interface,
route and iptables rule inside), and remove the files it made in W (W itself when `up` created it).

Works from the state file and, independently of it, from the lab's namespace prefix: a process still living in
one of the lab's namespaces is killed even when the state file is lost, so `down` also cleans up after a crash.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from tenancy.lab import netns, state, topology
from tenancy.lab.state import LabError, LabState

OWN_FILES = ("state.json", "state.tmp", "pods.json", "pods.tmp", "admin.kubeconfig", "agent.ready", "marker.json")
OWN_DIRS = ("pki", "etcd")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("down", help="stop a lab and remove everything it made", description=__doc__)
    parser.add_argument("workdir", type=Path, help="the lab's directory (as given to `lab up --workdir`)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        state.require_linux_root()
        removed = teardown(args.workdir)
    except LabError as exc:
        return state.fail(str(exc))
    print(f"lab down: {removed}")
    return 0


def teardown(workdir: Path, *, quiet: bool = False, keep_logs: bool = False) -> str:
    """Remove the lab of `workdir`; returns a one-line summary."""
    workdir = workdir.absolute()
    names = topology.Names(netns.lab_id(workdir))
    lab: LabState | None = None
    try:
        lab = LabState.load(workdir)
    except LabError:
        lab = None
    stopped = 0
    if lab is not None:
        live = [p for p in lab.processes if state.alive(p)]
        # One at a time, in reverse start order: kube-apiserver signalled together with etcd waits ~10 s in its
        # shutdown for the etcd that is already gone; stopped before etcd it exits in about a second.
        for proc in reversed(live):
            state.stop([proc])
        stopped += len(live)
    strays = state.lab_processes(names.prefix)
    state.kill_pids(strays)
    stopped += len(strays)
    spaces = netns.list_names(names.prefix)
    # Pods first, the node namespace (bridge, kube-router's rules and sets) and the outside one last.
    for name in sorted(spaces, key=lambda n: (n in (names.node, names.outside), n)):
        netns.delete(name)
    left = netns.list_names(names.prefix)
    if left:
        raise LabError(f"could not delete network namespaces: {', '.join(left)}")
    if lab is not None and lab.created_workdir and not keep_logs:
        shutil.rmtree(workdir, ignore_errors=True)
    elif workdir.is_dir():
        for name in OWN_FILES:
            (workdir / name).unlink(missing_ok=True)
        for name in OWN_DIRS + (() if keep_logs else ("logs",)):
            shutil.rmtree(workdir / name, ignore_errors=True)
    summary = f"{stopped} processes stopped, {len(spaces)} network namespaces deleted, files of {workdir} removed"
    if not quiet:
        return summary
    return summary
