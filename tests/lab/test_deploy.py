"""`lab deploy`: the real `pulumi up` of the stacks onto labs of their own (the Pulumi CLI, the lab's Python language
host and the Kubernetes provider built by `lab build`), with the guardrails pack, and the user's paths around it:
preview of a change, a blocked violation, prod's protection and rename procedure, an update while pods run, and
destroy."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tenancy.lab import apply as lab_apply
from tenancy.lab import deploy, down, up
from tenancy.lab.probe import Lab
from tenancy.lab.state import LabState
from tests.paths import REPO_ROOT

CONSUMER = "          consumers:\n            - {tenant: globex, app: portal, tier: backend}\n"


class Deployed:
    def __init__(self, workdir: Path, stack: str, result: deploy.Deployment) -> None:
        self.workdir, self.stack, self.result = workdir, stack, result
        self.lab = LabState.load(workdir)
        self.kubectl = lab_apply.Kubectl(self.lab)

    def workspace(self, config_dir: Path = REPO_ROOT) -> deploy.Workspace:
        ws = deploy.Workspace(self.lab, self.stack, config_dir)
        ws.select()
        return ws


def _deployed(root: Path, stack: str) -> Iterator[Deployed]:
    workdir = root / "lab"
    try:
        up.up(workdir, up.binaries())
        yield Deployed(workdir, stack, deploy.deploy(workdir, stack, progress=lambda _line: None))
    finally:
        down.teardown(workdir)


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    yield from _deployed(tmp_path_factory.mktemp("deploy-dev"), "dev")


@pytest.fixture(scope="module")
def staging(tmp_path_factory):
    yield from _deployed(tmp_path_factory.mktemp("deploy-staging"), "staging")


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    yield from _deployed(tmp_path_factory.mktemp("deploy-prod"), "prod")


def _config(tmp_path: Path, stack: str, edit) -> Path:
    text = (REPO_ROOT / f"Pulumi.{stack}.yaml").read_text()
    changed = edit(text)
    assert changed != text
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(changed)
    return tmp_path


def _assert_deployed(deployed: Deployed) -> None:
    result = deployed.result
    assert result.differences == [], result.differences[:10]
    assert not result.report.disagreements, [o.line() for o in result.report.disagreements][:5]
    assert not result.report.deviations, [o.line() for o in result.report.deviations][:5]
    assert {o.lab for o in result.report.outcomes} == {"allow", "deny"}


def test_dev_up_creates_exactly_the_render_and_the_dataplane_agrees(dev):
    _assert_deployed(dev)
    assert sorted(dev.result.secrets) == [("acme", "shop-db-credentials"), ("globex", "portal-db-credentials")]
    log = (dev.workdir / "logs" / "pulumi-dev.log").read_text()
    assert "tenancy-guardrails@v0.1.0" in log  # the pack ran, and passed
    # A second `up` of the same stack changes nothing.
    noop = dev.workspace().pulumi("up", "--yes", "--non-interactive", "--stack", "dev")
    assert noop.returncode == 0 and re.search(r"\b63 unchanged\b", noop.stdout), noop.stdout[-3000:]


def test_staging_up_creates_exactly_the_render_and_the_dataplane_agrees(staging):
    _assert_deployed(staging)


def test_prod_up_creates_exactly_the_render_and_the_dataplane_agrees(prod):
    _assert_deployed(prod)


def _pulumi_plan(ws: deploy.Workspace, stack: str) -> dict[str, set[tuple[str, str]]]:
    """op -> {(kind, namespace/name)} of `pulumi preview --json`."""
    done = ws.pulumi("preview", "--json", "--non-interactive", "--stack", stack)
    assert done.returncode == 0, done.stdout[-3000:]
    plan = json.loads(done.stdout[done.stdout.index("{"):])
    out: dict[str, set[tuple[str, str]]] = {}
    for step in plan.get("steps", []):
        urn = step["urn"]
        if "$kubernetes:" not in urn and "::kubernetes:" not in urn:
            continue
        kind = urn.split("::")[-2].rsplit(":", 1)[-1]
        out.setdefault(step["op"], set()).add((kind, urn.split("::")[-1]))
    return out


def _tenancy_preview(tmp_path: Path, stack: str, edit) -> dict[str, set[tuple[str, str]]]:
    """op -> {(kind, namespace/name)} of `tenancy preview --base HEAD` with the same change in a scratch clone."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--shared", str(REPO_ROOT), str(clone)], check=True)
    _config(clone, stack, edit)
    done = subprocess.run([sys.executable, "-m", "tenancy", "preview", "--base", "HEAD", "--stack", stack],
                          cwd=clone, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode in (0, 1), done.stderr
    ops = {"➕": "create", "➖": "delete", "✏️": "update"}
    out: dict[str, set[tuple[str, str]]] = {}
    namespace = ""
    for line in done.stdout.splitlines():
        if line.startswith("**") and line.endswith("**"):
            namespace = "" if line == "**(cluster-scoped)**" else line.strip("*")
        match = re.match(r"- (➕|➖|✏️) (\S+) `([^`]+)`", line)
        if match:
            name = f"{namespace}/{match.group(3)}" if namespace else match.group(3)
            out.setdefault(ops[match.group(1)], set()).add((match.group(2), name))
    return out


def test_preview_of_a_new_consumer_matches_tenancy_preview(dev, tmp_path):
    def edit(text: str) -> str:
        return text.replace(CONSUMER, CONSUMER + "            - {tenant: globex, app: portal, tier: frontend}\n")

    ws = dev.workspace(_config(tmp_path, "dev", edit))
    try:
        diff = ws.pulumi("preview", "--diff", "--non-interactive", "--stack", "dev")
        assert diff.returncode == 0, diff.stdout[-3000:]
        created = r"\+ \S*:NetworkPolicy: \(create\)\s+\[urn=\S*::acme/shop-backend-from-globex-portal-frontend\]"
        assert re.search(created, diff.stdout), diff.stdout[-5000:]
        pulumi = _pulumi_plan(ws, "dev")
    finally:
        dev.workspace()  # the stack's own config again
    ours = _tenancy_preview(tmp_path, "dev", edit)
    assert pulumi.get("create") == ours.get("create") and pulumi.get("delete") == ours.get("delete")
    assert pulumi.get("update") == ours.get("update")
    assert ("NetworkPolicy", "acme/shop-backend-from-globex-portal-frontend") in ours["create"]


def test_preview_of_a_removed_app_matches_tenancy_preview(staging, tmp_path):
    def remove_reports(text: str) -> str:
        """initech's only app, reports, goes; the tenant (namespace, quota, owners) stays."""
        start = text.index("    - name: initech")
        apps = text.index("      apps:\n", start)
        end = text.find("\n    - name:", start + 1)
        return text[:apps] + "      apps: []\n" + (text[end + 1:] if end != -1 else "")

    ws = staging.workspace(_config(tmp_path, "staging", remove_reports))
    try:
        pulumi = _pulumi_plan(ws, "staging")
    finally:
        staging.workspace()
    ours = _tenancy_preview(tmp_path, "staging", remove_reports)
    assert pulumi.get("delete") and pulumi.get("delete") == ours.get("delete")
    assert ("StatefulSet", "initech/reports-database") in ours["delete"] and not ours.get("create")
    assert ("Namespace", "initech") not in ours["delete"]
    assert pulumi.get("update") == ours.get("update")


def test_guardrails_block_a_planted_violation_and_name_the_rule(dev):
    """A program patched to add an allow-everything ingress policy: the pack stops `pulumi preview`."""
    ws = dev.workspace()
    main = ws.project / "__main__.py"
    original = main.read_text()
    main.write_text(original + """
import pulumi_kubernetes as k8s
k8s.networking.v1.NetworkPolicy("planted", metadata={"name": "allow-all-ingress", "namespace": "acme"},
    spec={"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}]})
""")
    try:
        blocked = ws.pulumi("preview", "--non-interactive", "--stack", "dev", "--policy-pack",
                            str(REPO_ROOT / "guardrails"))
    finally:
        main.write_text(original)
    assert blocked.returncode != 0, blocked.stdout[-3000:]
    assert "open-world-ingress" in blocked.stdout and "mandatory" in blocked.stdout, blocked.stdout[-3000:]
    clean = ws.pulumi("preview", "--non-interactive", "--stack", "dev", "--policy-pack", str(REPO_ROOT / "guardrails"))
    assert clean.returncode == 0, clean.stdout[-3000:]


def test_an_update_closing_a_flow_leaves_no_window_longer_than_the_update(dev, tmp_path):
    """Remove globex's consumer allowance while probing that very flow with new connections: it must be denied by
    the time the update is over (plus kube-router's sync), and never allowed again after."""
    flow = ("globex/portal-backend", "acme/shop-backend", "8080/TCP")
    lab = Lab(dev.workdir)
    assert lab.probe_batch([{"from": flow[0], "to": flow[1], "port": flow[2]}])[0]["verdict"] == "allow"
    seen: list[tuple[float, str]] = []
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            answer = lab.probe_batch([{"from": flow[0], "to": flow[1], "port": flow[2]}], timeout=0.3)[0]
            seen.append((time.monotonic(), answer.get("verdict", "error")))

    ws = dev.workspace(_config(tmp_path, "dev", lambda text: text.replace(CONSUMER, "")))
    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        done = ws.pulumi("up", "--yes", "--non-interactive", "--stack", "dev")
        ended = time.monotonic()
        time.sleep(3)
    finally:
        stop.set()
        thread.join(10)
    try:
        assert done.returncode == 0, done.stdout[-3000:]
        last_allow = max((t for t, v in seen if v == "allow"), default=started)
        first_deny = min((t for t, v in seen if v == "deny" and t > last_allow), default=None)
        update = ended - started
        print(f"update {update:.1f}s; flow last allowed {last_allow - started:+.2f}s after it began, "
              f"{len(seen)} probes")
        assert first_deny is not None and all(v == "deny" for t, v in seen if t > first_deny)
        assert last_allow - started < update + 2.0, (last_allow - started, update)
    finally:
        restore = dev.workspace().pulumi("up", "--yes", "--non-interactive", "--stack", "dev")
        assert restore.returncode == 0, restore.stdout[-3000:]


def test_prod_refuses_to_delete_a_removed_tenant_and_the_rename_procedure_works(prod, tmp_path):
    tenant_block = re.compile(r"    - name: initech\n(?:      .*\n|        .*\n)+")
    text = (REPO_ROOT / "Pulumi.prod.yaml").read_text()
    block = tenant_block.search(text)
    assert block
    without = text.replace(block.group(0), "")
    # 1. Removing a tenant: `pulumi up` refuses (protected), nothing is deleted. Pulumi checks protection in the
    # preview that `up` runs first; with --skip-preview (the Automation API's default) it would delete the tenant's
    # unprotected policies and workloads before the protected namespace stopped it (README, Protection).
    (tmp_path / "removed").mkdir()
    (tmp_path / "removed" / "Pulumi.prod.yaml").write_text(without)
    ws = prod.workspace(tmp_path / "removed")
    refused = ws.pulumi("up", "--yes", "--non-interactive", "--stack", "prod")
    assert refused.returncode != 0 and "protected" in refused.stdout, refused.stdout[-3000:]
    from tests.conftest import rendered

    assert deploy.live_differences(prod.kubectl, rendered("prod").manifests()) == []
    # 2. The README's rename, step by step: add the new tenant next to the old one, `pulumi up`...
    renamed = block.group(0).replace("- name: initech", "- name: initrode").replace("initech-admins",
                                                                                 "initrode-admins")
    (tmp_path / "both").mkdir()
    (tmp_path / "both" / "Pulumi.prod.yaml").write_text(text.replace(block.group(0), block.group(0) + renamed))
    ws = prod.workspace(tmp_path / "both")
    both = ws.pulumi("up", "--yes", "--non-interactive", "--stack", "prod")
    assert both.returncode == 0, both.stdout[-3000:]
    assert prod.kubectl.json("namespace", "initrode")["metadata"]["name"] == "initrode"
    old_volumes = {pv["metadata"]["name"] for pv in prod.kubectl.json("pv").get("items", [])
                   if pv["spec"].get("claimRef", {}).get("namespace") == "initech"}
    assert old_volumes
    # ...then remove the old entry, `pulumi state unprotect` its namespace and claims (URNs from
    # `pulumi stack --show-urns`), and `pulumi up` again.
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "Pulumi.prod.yaml").write_text(text.replace(block.group(0), renamed))
    ws = prod.workspace(tmp_path / "new")
    urns = ws.pulumi("stack", "--show-urns", "--stack", "prod")
    assert urns.returncode == 0, urns.stdout
    old = sorted(set(re.findall(r"urn:pulumi:prod::tenancy::\S*(?:Namespace::initech|PersistentVolumeClaim::initech/"
                                r"\S+)", urns.stdout)))
    assert any(u.endswith("Namespace::initech") for u in old) and any("PersistentVolumeClaim" in u for u in old), old
    for urn in old:
        unprotect = ws.pulumi("state", "unprotect", urn, "--yes", "--stack", "prod")
        assert unprotect.returncode == 0, unprotect.stdout
    moved = ws.pulumi("up", "--yes", "--non-interactive", "--stack", "prod")
    assert moved.returncode == 0, moved.stdout[-3000:]
    namespaces = {n["metadata"]["name"] for n in prod.kubectl.json("namespaces").get("items", [])
                  if not n["metadata"].get("deletionTimestamp")}
    assert "initrode" in namespaces and "initech" not in namespaces
    # The old claims' volumes are retained on delete, as the README says: removed by hand after the migration.
    volumes = {pv["metadata"]["name"]: pv for pv in prod.kubectl.json("pv").get("items", [])}
    assert old_volumes <= set(volumes)
    assert all(volumes[v]["spec"]["persistentVolumeReclaimPolicy"] == "Retain" for v in old_volumes)


def test_a_pulumi_that_hangs_silently_is_killed_at_its_timeout(dev, tmp_path, monkeypatch):
    # Silent on purpose: a deadline checked only between output lines would wait for the sleep to end.
    hang = tmp_path / "pulumi"
    hang.write_text("#!/bin/sh\nsleep 60\n")
    hang.chmod(0o755)
    monkeypatch.setattr("tenancy.lab.build.binary_path", lambda name: hang)
    started = time.monotonic()
    result = deploy.Workspace(dev.lab, dev.stack, REPO_ROOT).pulumi("up", "--yes", timeout=2)
    assert time.monotonic() - started < 10
    assert result.returncode != 0
    assert result.stdout.splitlines()[-1] == "pulumi up --yes: killed after 2 s without finishing"


def test_ctrl_c_reaches_pulumi_in_its_own_session_and_leaves_nothing_running(dev, tmp_path):
    # pulumi runs in a session of its own (so a timeout can kill its plugins too), which the terminal's Ctrl-C no
    # longer reaches by itself: the caller must pass it on, or pulumi would go on updating the cluster alone.
    marker = tmp_path / "interrupted"
    fake = tmp_path / "pulumi"
    fake.write_text(f"#!/bin/sh\ntrap 'echo interrupted > {marker}; exit 130' INT\necho started\n"
                    "while :; do sleep 0.1; done\n")
    fake.chmod(0o755)
    script = (
        "import sys\nfrom pathlib import Path\nimport tenancy.lab.build as build\n"
        f"build.binary_path = lambda name: Path({str(fake)!r})\n"
        "from tenancy.lab import deploy\nfrom tenancy.lab.state import LabState\n"
        f"ws = deploy.Workspace(LabState.load(Path({str(dev.workdir)!r})), {dev.stack!r}, Path({str(REPO_ROOT)!r}))\n"
        "ws.pulumi('up', '--yes', stream=True, timeout=120)\n")
    caller = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    try:
        assert caller.stderr is not None
        assert caller.stderr.readline().strip() == "started"
        caller.send_signal(signal.SIGINT)
        caller.wait(timeout=30)
    finally:
        caller.kill()
    assert caller.returncode != 0
    assert marker.read_text().strip() == "interrupted"
    running = subprocess.run(["pgrep", "-f", str(fake)], capture_output=True, text=True)
    assert running.stdout == ""


def test_destroy_of_dev_leaves_no_tenant_object_behind(dev):
    seconds, left = deploy.destroy(dev.workdir, "dev")
    assert left == [], left
    namespaces = {n["metadata"]["name"] for n in dev.kubectl.json("namespaces").get("items", [])}
    assert not namespaces & {"acme", "globex", "egress-proxy"}, namespaces
    assert not dev.kubectl.json("clusternetworkpolicies").get("items")
    # dev's claims use the lab's default class (reclaim policy Delete): their volumes go too.
    assert not [pv for pv in dev.kubectl.json("pv").get("items", [])
                if pv["spec"].get("claimRef", {}).get("namespace") in ("acme", "globex")]
