"""`lab deploy W --stack S`: the real `pulumi up` of a stack onto the lab, with the guardrails policy pack, then proof
that what Pulumi created is the offline render and that the dataplane enforces what the engine predicts.

Steps, each reported on one line:
1. a Pulumi workspace of the lab's own in W/pulumi/ (PULUMI_HOME, a file backend, a copy of the project with the
   stack's config file, so nothing is written into the checkout), the lab's binaries on PATH as ambient plugins and
   no plugin download or Pulumi Cloud ever;
2. what a real platform already has: DNS and Prometheus stand-ins as the stack's config describes them, the
   StorageClasses the claims name (provisioned by the node agent, reclaim policy Retain), and every
   Secret a rendered workload references but the program does not create (the database passwords: a random value
   each, created as soon as its namespace exists, as a platform's secret operator would);
3. `pulumi up --yes --policy-pack guardrails` inside the lab's node namespace (where the API server is), so every
   await of the Kubernetes provider runs against the lab;
4. every live object next to the offline render of the same stack (`tenancy render`), ignoring only what
   kube/serverside.py lists as written or defaulted by the API server;
5. `lab verify` over the render and the stand-ins.

`--destroy` runs `pulumi destroy --yes` instead and then lists any object of the render still present.
Exit 0: deployed, identical and verified (or destroyed with nothing left); 1: a live object differs from the render,
a flow disagrees, or an object survived destroy; 2: cannot run (no lab, bad config, `pulumi` failed).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tenancy.lab import netns, state
from tenancy.lab.state import LabError, LabState
from tenancy.lab.up import REPO_ROOT

PROJECT_ROOT = REPO_ROOT  # where Pulumi.yaml, __main__.py, the stack files and guardrails/ are
PASSPHRASE = "tenancy-lab"  # the lab's own stacks only: their state lives and dies with the work directory
# Outside addresses verify probes by default: one inside dev's and staging's load-balancer range, one public address
# on the internet, one private address and the cloud metadata endpoint (both of which the proxy must never reach).
EXTERNALS = ("203.0.113.7", "192.0.2.10", "10.250.0.10", "169.254.169.254")


@dataclass
class Workspace:
    """The lab's Pulumi workspace: W/pulumi/{home,state,project}."""

    lab: LabState
    stack: str
    config_dir: Path
    root: Path = field(init=False)

    def __post_init__(self) -> None:
        self.root = Path(self.lab.workdir) / "pulumi"
        for sub in ("home", "state", "project"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        project = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())
        project["runtime"]["options"]["virtualenv"] = sys.prefix
        (self.project / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
        shutil.copy(PROJECT_ROOT / "__main__.py", self.project / "__main__.py")
        stack_file = self.config_dir / f"Pulumi.{self.stack}.yaml"
        if not stack_file.is_file():
            raise LabError(f"{stack_file}: no such stack file")
        target = self.project / stack_file.name
        # Keep the secrets provider's salt that `stack init` wrote into the copy from an earlier deploy.
        salt = _encryption_salt(target)
        config = yaml.safe_load(stack_file.read_text()) or {}
        if salt:
            config["encryptionsalt"] = salt
        target.write_text(yaml.safe_dump(config, sort_keys=False))

    @property
    def project(self) -> Path:
        return self.root / "project"

    def env(self) -> dict[str, str]:
        from tenancy.lab.build_pulumi import pulumi_env

        env = pulumi_env(self.root / "home", self.root / "state")
        env.update({"PULUMI_CONFIG_PASSPHRASE": PASSPHRASE, "KUBECONFIG": self.lab.kubeconfig, "NO_COLOR": "1",
                    "PYTHONPATH": str(PROJECT_ROOT), "PULUMI_STACK": self.stack})
        return env

    def pulumi(self, *args: str, stream: bool = False, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        """`pulumi ARGS` in the lab's node namespace; with `stream`, its output goes to stderr as it comes."""
        from tenancy.lab.build import binary_path

        binary = binary_path("pulumi")
        if not binary.exists():
            raise LabError("the Pulumi CLI is not built; run `tenancy lab build` first")
        argv = ["ip", "netns", "exec", self.lab.node_netns, str(binary), *args]
        log = Path(self.lab.workdir) / "logs" / f"pulumi-{self.stack}.log"
        with open(log, "a") as out:
            out.write(f"$ pulumi {' '.join(args)}\n")
            # A session of its own: pulumi starts plugins and the language host, which hold the output pipe open;
            # the timeout kills them all, not only pulumi.
            proc = subprocess.Popen(argv, cwd=self.project, env=self.env(), stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
            lines: list[str] = []
            assert proc.stdout is not None
            # A timer, not a check between lines: a pulumi that hangs silently never yields the next line.
            expired = threading.Event()

            def expire() -> None:
                expired.set()
                _signal_group(proc.pid, signal.SIGKILL)

            watchdog = threading.Timer(timeout, expire)
            watchdog.start()
            try:
                for line in proc.stdout:
                    lines.append(line)
                    out.write(line)
                    if stream:
                        sys.stderr.write(line)
            except BaseException:
                # Its own session no longer gets the terminal's Ctrl-C: pass it on (pulumi then cancels the
                # update cleanly), and kill what is still there after a grace period.
                _signal_group(proc.pid, signal.SIGINT)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    _signal_group(proc.pid, signal.SIGKILL)
                raise
            finally:
                watchdog.cancel()
            code = proc.wait()
            if expired.is_set():
                lines.append(f"pulumi {' '.join(args[:2])}: killed after {timeout:.0f} s without finishing\n")
                out.write(lines[-1])
        return subprocess.CompletedProcess(argv, code, "".join(lines), "")

    def select(self) -> None:
        login = self.pulumi("login", f"file://{self.root / 'state'}")
        if login.returncode != 0:
            raise LabError(f"pulumi login: {_tail(login.stdout)}")
        chosen = self.pulumi("stack", "select", "--create", self.stack, "--non-interactive")
        if chosen.returncode != 0:
            raise LabError(f"pulumi stack select: {_tail(chosen.stdout)}")


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def _encryption_salt(path: Path) -> str | None:
    try:
        return (yaml.safe_load(path.read_text()) or {}).get("encryptionsalt")
    except (OSError, yaml.YAMLError):
        return None


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def referenced_secrets(manifests: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(namespace, name) of every Secret a workload's containers reference that the manifests do not create."""
    from kube.workloads import pod_template

    created = {(m["metadata"].get("namespace", ""), m["metadata"]["name"]) for m in manifests if m["kind"] == "Secret"}
    wanted: set[tuple[str, str]] = set()
    for m in manifests:
        _, template = pod_template(m)
        if not isinstance(template, dict):
            continue
        ns = m["metadata"].get("namespace", "default")
        for container in template.get("spec", {}).get("containers", []):
            for env in container.get("env") or []:
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    wanted.add((ns, ref["name"]))
    return sorted(wanted - created)


def storage_classes(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A StorageClass for every class name a rendered claim asks for, provisioned by the node agent and retaining
    released volumes (the lab never throws data away for a platform it stands in for)."""
    names: set[str] = set()
    for m in manifests:
        claims = [m] if m["kind"] == "PersistentVolumeClaim" else \
            (m.get("spec", {}).get("volumeClaimTemplates") or []) if m["kind"] == "StatefulSet" else []
        names.update(c.get("spec", {}).get("storageClassName") for c in claims)
    return [{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
             "provisioner": "tenancy.lab/node-agent", "reclaimPolicy": "Retain", "volumeBindingMode": "Immediate"}
            for name in sorted(n for n in names if n)]


class SecretOperator(threading.Thread):
    """Creates each wanted Secret (key `password`, a random value) as soon as its namespace exists."""

    def __init__(self, kubectl: Any, wanted: list[tuple[str, str]]) -> None:
        super().__init__(daemon=True, name="lab-secrets")
        self.kubectl, self.pending = kubectl, set(wanted)
        self.created: list[tuple[str, str]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while self.pending and not self.stopping.is_set():
            self.step()
            self.stopping.wait(0.5)

    def step(self) -> None:
        out = self.kubectl("get", "namespaces", "-o", "json", check=False)
        try:
            present = {n["metadata"]["name"] for n in json.loads(out).get("items", [])}
        except ValueError:
            return
        for ns, name in sorted(self.pending):
            if ns not in present:
                continue
            done = self.kubectl("create", "secret", "generic", name, "-n", ns,
                                f"--from-literal=password={secrets.token_urlsafe(18)}", check=False)
            exists = self.kubectl("get", "secret", name, "-n", ns, "-o", "name", check=False).strip()
            if done or exists:
                self.pending.discard((ns, name))
                self.created.append((ns, name))

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


def live_differences(kubectl: Any, manifests: list[dict[str, Any]]) -> list[str]:
    """One line per rendered object that is missing from the lab or differs from its live self (modulo the fields
    kube/serverside.py lists)."""
    from analysis.review.diff import field_changes
    from kube.serverside import defaulted, strip_server_metadata

    live = _live_index(kubectl, manifests)
    out = []
    for m in manifests:
        key = _key(m)
        name = f"{m['kind']} {key[1] + '/' if key[1] else ''}{key[2]}"
        obj = live.get(key)
        if obj is None:
            out.append(f"{name}: rendered, not in the cluster")
            continue
        changes = field_changes(strip_server_metadata(m), strip_server_metadata(obj),
                                ignore=functools.partial(defaulted, m["kind"]))
        out += [f"{name}: {change} (render -> live)" for change in changes]
    return out


def _key(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata", {})
    return obj["kind"], meta.get("namespace", ""), meta["name"]


def _resource(obj: dict[str, Any]) -> str:
    """kubectl's name for the kind at the very version the manifest uses (not the server's preferred one)."""
    group, _, version = obj["apiVersion"].rpartition("/")
    return f"{obj['kind'].lower()}.{version}.{group}" if group else obj["kind"].lower()


def _live_index(kubectl: Any, manifests: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    resources = sorted({_resource(m) for m in manifests})
    if not resources:
        return {}
    items = kubectl.json(",".join(resources), "-A").get("items", [])
    return {_key(item): item for item in items}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("deploy", help="pulumi up of a stack onto the lab, compared and verified",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--stack", required=True, help="the stack (Pulumi.<stack>.yaml)")
    parser.add_argument("--config-dir", type=Path, default=PROJECT_ROOT, help="where the stack files are")
    parser.add_argument("--destroy", action="store_true", help="pulumi destroy, then list what survived")
    parser.add_argument("--no-policy-pack", action="store_true", help="without the guardrails pack")
    parser.add_argument("--no-verify", action="store_true",
                        help="skip the probes (a large stack: verify probes every pair on every port)")
    parser.add_argument("--external", action="append", default=None, metavar="IP",
                        help=f"outside addresses for verify (default: {', '.join(EXTERNALS)})")
    parser.set_defaults(run=run)


@dataclass
class Deployment:
    seconds: float
    secrets: list[tuple[str, str]]
    differences: list[str]
    report: Any  # verify.Report, None when not probed


def deploy(workdir: Path, stack: str, config_dir: Path = PROJECT_ROOT, policy_pack: bool = True,
           externals: list[str] | None = None, progress: Any = None, probe: bool = True) -> Deployment:
    from analysis.checks.cluster_context import context_objects
    from stackconfig import ConfigError
    from tenancy.lab import apply as lab_apply
    from tenancy.lab import verify
    from tenancy.render import render_stack, to_yaml

    say = progress or (lambda line: print(line, file=sys.stderr))
    lab = _running(workdir)
    try:
        render = render_stack(stack, config_dir)
    except ConfigError as exc:
        raise LabError("\n".join(exc.problems)) from None
    manifests = render.manifests()
    out_dir = Path(lab.workdir) / "deploy" / stack
    shutil.rmtree(out_dir, ignore_errors=True)
    (out_dir / "render").mkdir(parents=True)
    (out_dir / "context").mkdir()
    for name, docs in render.by_file().items():
        (out_dir / "render" / name).write_text(to_yaml(docs))
    context = context_objects(render.parsed.config.cluster)
    (out_dir / "context" / "context.yaml").write_text(to_yaml(context))
    classes = storage_classes(manifests)
    say(f"lab deploy: {len(manifests)} objects rendered for {stack}; DNS and monitoring stand-ins, "
        f"{len(classes)} StorageClasses")
    lab_apply.apply(Path(lab.workdir), [*context, *classes])
    kubectl = lab_apply.Kubectl(lab)
    operator = SecretOperator(kubectl, referenced_secrets(manifests))
    workspace = Workspace(lab, stack, config_dir)
    workspace.select()
    # With its preview: Pulumi refuses a protected delete there, before anything is deleted (README, Protection).
    args = ["up", "--yes", "--non-interactive", "--stack", stack]
    if policy_pack:
        args += ["--policy-pack", str(PROJECT_ROOT / "guardrails")]
    say(f"lab deploy: pulumi {' '.join(args)}")
    started = time.monotonic()
    operator.start()
    try:
        done = workspace.pulumi(*args, stream=True)
    finally:
        operator.stop()
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise LabError(f"pulumi up of {stack} failed (exit {done.returncode}); see "
                       f"{Path(lab.workdir) / 'logs' / f'pulumi-{stack}.log'}")
    say(f"lab deploy: pulumi up in {seconds:.1f}s; comparing the live objects with the render")
    differences = live_differences(kubectl, manifests)
    if not probe:
        return Deployment(seconds, operator.created, differences, None)
    lab_apply.apply(Path(lab.workdir), [])  # a kube-router sync that saw everything Pulumi created
    report = verify.verify(Path(lab.workdir), [str(out_dir / "render"), str(out_dir / "context")],
                           externals=list(EXTERNALS if externals is None else externals))
    return Deployment(seconds, operator.created, differences, report)


def destroy(workdir: Path, stack: str, config_dir: Path = PROJECT_ROOT) -> tuple[float, list[str]]:
    """`pulumi destroy --yes`; returns its seconds and the rendered objects still present afterwards."""
    from tenancy.lab import apply as lab_apply
    from tenancy.render import render_stack

    lab = _running(workdir)
    workspace = Workspace(lab, stack, config_dir)
    workspace.select()
    started = time.monotonic()
    done = workspace.pulumi("destroy", "--yes", "--non-interactive", "--skip-preview", "--stack", stack,
                            stream=True)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise LabError(f"pulumi destroy of {stack} failed (exit {done.returncode}); see "
                       f"{Path(lab.workdir) / 'logs' / f'pulumi-{stack}.log'}")
    manifests = render_stack(stack, config_dir).manifests()
    live = _live_index(lab_apply.Kubectl(lab), manifests)
    left = [f"{k[0]} {k[1] + '/' if k[1] else ''}{k[2]}" for k in map(_key, manifests)
            if k in live and not live[k].get("metadata", {}).get("deletionTimestamp")]
    return seconds, left


def _running(workdir: Path) -> LabState:
    lab = LabState.load(workdir.absolute())
    if not netns.exists(lab.node_netns):
        raise LabError(f"the lab at {workdir} is not running; start it with `tenancy lab up --workdir {workdir}`")
    return lab


def run(args: argparse.Namespace) -> int:
    try:
        state.require_linux_root()
        if args.destroy:
            seconds, left = destroy(args.workdir, args.stack, args.config_dir)
            for line in left:
                print(f"LEFT BEHIND: {line}")
            print(f"lab deploy: destroyed {args.stack} in {seconds:.1f}s, {len(left)} rendered objects left")
            return 1 if left else 0
        result = deploy(args.workdir, args.stack, args.config_dir, policy_pack=not args.no_policy_pack,
                        externals=args.external, probe=not args.no_verify)
    except (LabError, OSError) as exc:
        return state.fail(str(exc))
    for line in result.differences:
        print(f"DIFFERS: {line}")
    report = result.report
    for outcome in report.outcomes if report else ():
        if not outcome.agrees:
            print(outcome.line())
    print(f"lab deploy: {args.stack} up in {result.seconds:.1f}s, {len(result.secrets)} platform Secrets, "
          f"{len(result.differences)} live differences from the render; "
          f"{report.summary() if report else 'flows not probed (--no-verify)'}")
    return 1 if result.differences or (report and report.disagreements) else 0
