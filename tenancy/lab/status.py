"""`lab status W`: is the lab of W up - each process, the API server's readiness, the namespaces and pods.

Exit 0 when everything runs, 1 when something of the lab is down, 2 when there is no lab at W.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tenancy.lab import netns, state, topology
from tenancy.lab.state import LabError, LabState


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help="show whether a lab runs, and its pods", description=__doc__)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(run=run)


def collect(workdir: Path) -> dict[str, object]:
    from tenancy.lab.up import APISERVER_PORT, _client_tls, _http_ok

    lab = LabState.load(workdir.absolute())
    names = topology.Names(lab.lab_id)
    processes = {p.name: {"pid": p.pid, "running": state.alive(p), "log": p.log} for p in lab.processes}
    node_up = netns.exists(lab.node_netns)
    api_ready = node_up and _http_ok(lab.node_netns, lab.node_ip, APISERVER_PORT, "/readyz",
                                     _client_tls(Path(lab.workdir) / "pki"))
    try:
        pods = json.loads((Path(lab.workdir) / state.PODS_FILE).read_text()).get("pods", [])
    except (OSError, ValueError):
        pods = []
    healthy = bool(lab.ready and node_up and api_ready and all(p["running"] for p in processes.values()))
    return {"workdir": lab.workdir, "healthy": healthy, "ready": lab.ready, "node": lab.node_name,
            "node_ip": lab.node_ip, "node_netns": lab.node_netns, "api_ready": api_ready,
            "processes": processes, "namespaces": netns.list_names(names.prefix),
            "pods": [{"pod": f"{p['namespace']}/{p['name']}", "ip": p["ip"], "ready": p.get("ready", False)}
                     for p in pods],
            "kubectl": f"ip netns exec {lab.node_netns} kubectl --kubeconfig {lab.kubeconfig}"}


def run(args: argparse.Namespace) -> int:
    try:
        state.require_linux_root()
        info = collect(args.workdir)
    except LabError as exc:
        return state.fail(str(exc))
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print(f"lab {info['workdir']}: {'up' if info['healthy'] else 'DEGRADED'} "
              f"(node {info['node']} {info['node_ip']} in {info['node_netns']}, API server "
              f"{'ready' if info['api_ready'] else 'not ready'})")
        processes = info["processes"]
        assert isinstance(processes, dict)
        for name, proc in processes.items():
            print(f"  {name:<24} pid {proc['pid']:<8} {'running' if proc['running'] else 'STOPPED'}  {proc['log']}")
        pods = info["pods"]
        assert isinstance(pods, list)
        print(f"  pods: {len(pods)} ({sum(1 for p in pods if p['ready'])} ready)")
        print(f"  kubectl: {info['kubectl']}")
    return 0 if info["healthy"] else 1
