"""`lab up [--workdir W]`: start a lab - certificates, etcd, kube-apiserver, kube-controller-manager, the node agent
and kube-router's NetworkPolicy controller, all inside the lab's own network namespaces.

Every daemon runs in the node namespace (`ip netns exec`), logs to W/logs/<name>.log and is recorded in
W/state.json as soon as it starts. A component that does not come up ends `up` with one line naming it and its log,
after everything started so far has been removed again. A lab left behind by a crash (state file, or namespaces
with this lab's id) is removed first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import ssl
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tenancy.lab import down, netns, pki, state, topology
from tenancy.lab.state import LabError, LabState

REQUIRED_TOOLS = ("ip", "iptables", "iptables-save", "iptables-restore", "ipset", "conntrack", "openssl", "sysctl")
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kubectl", "kube-router")
APISERVER_PORT = 6443
ETCD_CLIENT = "http://127.0.0.1:2379"
REPO_ROOT = Path(__file__).resolve().parents[2]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("up", help="start a lab (control plane, node agent, kube-router) in netns",
                                   description=__doc__)
    parser.add_argument("--workdir", type=Path, default=state.DEFAULT_WORKDIR,
                        help=f"the lab's directory (default {state.DEFAULT_WORKDIR})")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds each component may take to be ready")
    parser.set_defaults(run=run)


def find_binary(name: str) -> Path | None:
    """A lab binary: from the `lab build` cache when built there, else on PATH (and sbin)."""
    try:
        from tenancy.lab import cache

        cached = cache.bin_path(name)
        if os.access(cached, os.X_OK):
            return cached
    except Exception as exc:  # noqa: BLE001 - a cache that cannot answer is a cache miss
        del exc
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin",
                                                      "/sbin"]))
    return Path(found) if found else None


def binaries() -> dict[str, Path]:
    missing = [t for t in REQUIRED_TOOLS if find_binary(t) is None]
    if missing:
        raise LabError(f"missing tools: {', '.join(missing)} (Debian packages; `tenancy lab build` installs them)")
    found = {name: find_binary(name) for name in BINARIES}
    absent = [name for name, path in found.items() if path is None]
    if absent:
        raise LabError(f"lab binaries not built: {', '.join(absent)}; run `python -m tenancy lab build` first")
    return {name: path for name, path in found.items() if path is not None}


def run(args: argparse.Namespace) -> int:
    try:
        state.require_linux_root()
        bins = binaries()
        started = time.monotonic()
        lab = up(args.workdir, bins, timeout=args.timeout)
    except LabError as exc:
        return state.fail(str(exc))
    print(f"lab up in {time.monotonic() - started:.1f}s: {lab.workdir} (node {lab.node_name} {lab.node_ip}, "
          f"namespaces {lab.node_netns}, {lab.outside_netns})")
    print(f"  kubectl: ip netns exec {lab.node_netns} kubectl --kubeconfig {lab.kubeconfig} get pods -A")
    return 0


def up(workdir: Path, bins: dict[str, Path], timeout: float = 120.0) -> LabState:
    workdir = workdir.absolute()
    lid = netns.lab_id(workdir)
    names = topology.Names(lid)
    if (workdir / state.STATE_FILE).exists() or netns.list_names(names.prefix):
        down.teardown(workdir, quiet=True)
    # A directory holding only the logs of a failed `up` counts as the lab's own.
    created = not workdir.exists() or {p.name for p in workdir.iterdir()} <= {"logs"}
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "logs").mkdir(exist_ok=True)
    lab = LabState(workdir=str(workdir), lab_id=lid, node_netns=names.node, outside_netns=names.outside,
                   node_ip=topology.NODE_IP, pod_cidr=str(topology.POD_CIDR), node_name="lab-node",
                   kubeconfig=str(workdir / "admin.kubeconfig"), created_workdir=created, started_at=time.time())
    lab.save()
    try:
        _start(lab, bins, timeout)
    except BaseException as exc:
        message = str(exc) if isinstance(exc, LabError) else f"{type(exc).__name__}: {exc}"
        down.teardown(workdir, quiet=True, keep_logs=True)
        raise LabError(message) from exc
    lab.ready = True
    lab.save()
    return lab


def _start(lab: LabState, bins: dict[str, Path], timeout: float) -> None:
    workdir = Path(lab.workdir)
    names = topology.Names(lab.lab_id)
    pki_dir = workdir / "pki"
    try:
        pki.make(pki_dir, topology.NODE_IP, "10.96.0.1")
    except pki.PkiError as exc:
        raise LabError(f"certificates: {exc}") from None
    server = f"https://{topology.NODE_IP}:{APISERVER_PORT}"
    Path(lab.kubeconfig).write_text(pki.kubeconfig(pki_dir, server))
    try:
        topology.create_base(names)
    except netns.NetnsError as exc:
        raise LabError(f"network namespaces: {exc}") from None

    def launch(name: str, argv: list[str], ready: Callable[[], bool], env: dict[str, str] | None = None,
               own_netns: bool = False) -> None:
        proc = state.spawn(name, argv, workdir, netns_name=None if own_netns else lab.node_netns, env=env)
        lab.processes.append(proc)
        lab.save()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not state.alive(proc):
                raise LabError(f"{name} exited during startup; see {proc.log}")
            if ready():
                return
            time.sleep(0.2)
        raise LabError(f"{name} not ready after {timeout:.0f}s; see {proc.log}")

    etcd_dir = workdir / "etcd"
    launch("etcd", [str(bins["etcd"]), "--name", "lab", "--data-dir", str(etcd_dir),
                    "--listen-client-urls", ETCD_CLIENT, "--advertise-client-urls", ETCD_CLIENT,
                    "--listen-peer-urls", "http://127.0.0.1:2380",
                    "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
                    "--initial-cluster", "lab=http://127.0.0.1:2380", "--listen-metrics-urls", "",
                    *_etcd_extra(bins["etcd"])],
           lambda: _http_ok(lab.node_netns, "127.0.0.1", 2379, "/health"))
    ctx = _client_tls(pki_dir)
    launch("kube-apiserver", [
        str(bins["kube-apiserver"]),
        "--etcd-servers", ETCD_CLIENT,
        "--bind-address", "0.0.0.0", "--secure-port", str(APISERVER_PORT),
        "--advertise-address", topology.NODE_IP,
        "--tls-cert-file", str(pki_dir / "apiserver.crt"), "--tls-private-key-file", str(pki_dir / "apiserver.key"),
        "--client-ca-file", str(pki_dir / "ca.crt"),
        "--service-account-issuer", "https://kubernetes.default.svc",
        "--service-account-key-file", str(pki_dir / "sa.pub"),
        "--service-account-signing-key-file", str(pki_dir / "sa.key"),
        "--service-cluster-ip-range", topology.SERVICE_CIDR,
        "--authorization-mode", "RBAC",
        "--allow-privileged=true",
        "--profiling=false", "--enable-priority-and-fairness=false",
        "--event-ttl", "10m",
    ], lambda: _http_ok(lab.node_netns, topology.NODE_IP, APISERVER_PORT, "/readyz", ctx))
    kubeconfig = lab.kubeconfig
    launch("kube-controller-manager", [
        str(bins["kube-controller-manager"]),
        "--kubeconfig", kubeconfig, "--authentication-kubeconfig", kubeconfig,
        "--authorization-kubeconfig", kubeconfig,
        "--leader-elect=false", "--bind-address", "127.0.0.1", "--secure-port", "10257",
        "--controllers", "*,-node-lifecycle-controller,-node-ipam-controller",
        "--root-ca-file", str(pki_dir / "ca.crt"),
        "--concurrent-deployment-syncs", "10", "--concurrent-replicaset-syncs", "10",
        "--concurrent-statefulset-syncs", "10",
    ], lambda: _http_ok(lab.node_netns, "127.0.0.1", 10257, "/healthz", _insecure_tls()))
    _serve_cluster_policy_api(lab, timeout)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONUNBUFFERED"] = "1"
    launch("node-agent", [sys.executable, "-m", "tenancy.lab.nodeagent", "--workdir", str(workdir),
                          "--lab-id", lab.lab_id],
           lambda: (workdir / "agent.ready").exists(), env=env, own_netns=True)
    launch("kube-router", [
        str(bins["kube-router"]),
        "--kubeconfig", kubeconfig, "--hostname-override", lab.node_name,
        "--run-firewall=true", "--run-router=false", "--run-service-proxy=false",
        "--enable-cni=false", "--enable-ipv4=true", "--enable-ipv6=false",
        "--service-cluster-ip-range", topology.SERVICE_CIDR,
        "--health-port", "0", "--metrics-port", "0",
        "--iptables-sync-period", "5m",
        "-v", "1",
    ], lambda: _chain_exists(lab.node_netns, "KUBE-ROUTER-FORWARD") and _synced_once(workdir))


def _serve_cluster_policy_api(lab: LabState, timeout: float) -> None:
    """Install network-policy-api's CRDs (standard channel), as a cluster whose CNI implements them has them, so
    renders with cluster-scoped policies apply. kube-router enforces none of them; `verify` says which flows they
    decide."""
    from kube.customresources import definitions
    from tenancy.lab import apply as lab_apply

    crds = definitions()
    lab_apply.Kubectl(lab).apply(crds)
    kubectl = lab_apply.Kubectl(lab)
    lab_apply.wait(lambda: lab_apply.first_ready(kubectl, crds, []), time.monotonic() + timeout,
                   "the policy.networking.k8s.io CRDs to be established")


def _etcd_extra(binary: Path) -> list[str]:
    """Flags that only some etcd versions know: no fsync (a lab's data is throw-away) where supported."""
    import subprocess

    out = subprocess.run([str(binary), "--help"], capture_output=True, text=True, check=False)
    text = out.stdout + out.stderr
    extra = []
    if "--unsafe-no-fsync" in text:
        extra.append("--unsafe-no-fsync")
    return extra


def _client_tls(pki_dir: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki_dir / "ca.crt"))
    ctx.load_cert_chain(str(pki_dir / "admin.crt"), str(pki_dir / "admin.key"))
    return ctx


def _insecure_tls() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _http_ok(ns: str, host: str, port: int, path: str, ctx: ssl.SSLContext | None = None) -> bool:
    """GET path inside namespace `ns`; True on a 200 answer."""
    try:
        with netns.entered(ns):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(2.0)
        sock.connect((host, port))
        conn: socket.socket = ctx.wrap_socket(sock, server_hostname=host) if ctx else sock
        with conn:
            conn.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            head = conn.recv(64)
        return head.startswith(b"HTTP/1.") and head.split()[1:2] == [b"200"]
    except OSError:
        return False


def _chain_exists(ns: str, chain: str) -> bool:
    proc = netns.run(["iptables", "-w", "5", "-S", chain], netns=ns, check=False)
    return proc.returncode == 0


def _synced_once(workdir: Path) -> bool:
    log = workdir / "logs" / "kube-router.log"
    try:
        return "sync iptables took" in log.read_text(errors="replace")
    except OSError:
        return False


def status_line(lab: LabState) -> str:
    return json.dumps({"workdir": lab.workdir, "node": lab.node_netns})
