"""The GitHub workflows: actionlint (the same lint .ci/run runs unconditionally) plus the promises the README
makes about them, checked on the parsed YAML so an edit cannot quietly drop one."""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tests.paths import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
STACKS = ["dev", "staging", "prod"]


def _tool(name: str) -> str | None:
    # .ci/run installs the linters into the venv running the tests; elsewhere, anything on PATH will do.
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


ACTIONLINT = _tool("actionlint")
SHELLCHECK = _tool("shellcheck")
needs_actionlint = pytest.mark.skipif(
    ACTIONLINT is None,
    reason="actionlint not installed: `venv/bin/pip install --require-hashes --only-binary=:all: "
           "-r .ci/lint-requirements.txt` (.ci/run always does)",
)


def actionlint(*files: Path, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([ACTIONLINT, "-oneline", f"-shellcheck={SHELLCHECK or ''}", "-pyflakes=",
                           *map(str, files)], cwd=cwd, capture_output=True, text=True, timeout=120)


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict) -> dict:
    # PyYAML reads the bare key `on` as the boolean True.
    value = workflow.get("on", workflow.get(True))
    return {value: None} if isinstance(value, str) else value


def steps_using(job: dict, action: str) -> list[dict]:
    return [s for s in job.get("steps", []) if s.get("uses", "").split("@")[0] == action]


# ---------------------------------------------------------------------------------------------- lint


def test_there_are_workflows_to_lint():
    assert {p.name for p in WORKFLOW_FILES} >= {"pull-request.yml", "deploy.yml", "e2e-kind.yml"}


@needs_actionlint
def test_every_workflow_passes_actionlint():
    result = actionlint(*WORKFLOW_FILES)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_actionlint
def test_actionlint_catches_a_mistyped_action_input(tmp_path):
    # Proves the pinned linter knows the inputs of the action majors we use: a clean lint above means something.
    broken = (WORKFLOWS / "pull-request.yml").read_text().replace("policyPacks: guardrails", "policyPack: guardrails")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    target = tmp_path / ".github" / "workflows" / "broken.yml"
    target.write_text(broken)
    result = actionlint(target, cwd=tmp_path)
    assert result.returncode == 1
    assert 'input "policyPack" is not defined in action "pulumi/actions@v7"' in result.stdout


@needs_actionlint
@pytest.mark.skipif(SHELLCHECK is None, reason="shellcheck not installed (only x86_64 wheels are pinned)")
def test_run_scripts_go_through_shellcheck(tmp_path):
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    target = tmp_path / ".github" / "workflows" / "unquoted.yml"
    target.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: rm -rf $TARGET_DIR/*\n")
    result = actionlint(target, cwd=tmp_path)
    assert result.returncode == 1 and "SC2086" in result.stdout


# ---------------------------------------------------------------------------------------------- all workflows


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_actions_are_pinned_to_a_release(path):
    uses = re.findall(r"^\s*(?:-\s*)?uses:\s*(\S+)", path.read_text(), flags=re.M)
    for ref in uses:
        if ref.startswith("./"):
            continue
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})", ref), f"{path.name}: {ref}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_default_token_is_read_only(path):
    workflow = yaml.safe_load(path.read_text())
    assert workflow["permissions"] == {"contents": "read"}
    for name, job in workflow["jobs"].items():
        granted = job.get("permissions", {})
        writes = {scope for scope, level in granted.items() if level == "write"}
        if path.name == "pull-request.yml" and name == "comment":
            assert writes == {"pull-requests"}
        else:
            assert writes == set(), f"{path.name}:{name} writes {writes}"


# ---------------------------------------------------------------------------------------------- pull requests


def test_pull_request_checks():
    workflow = load("pull-request.yml")
    jobs = workflow["jobs"]
    assert "pull_request" in triggers(workflow)
    assert "github.event.pull_request.number" in workflow["concurrency"]["group"]
    assert workflow["concurrency"]["cancel-in-progress"] is True

    for job in (jobs["test"], jobs["preview"], jobs["pulumi-preview"]):
        python = steps_using(job, "actions/setup-python")[0]["with"]
        assert python == {"python-version": "3.11", "cache": "pip", "cache-dependency-path": "requirements.txt"}
    # The suite without root in one job, the lab's tests (root, built binaries) in another: together, all of it.
    assert any(s.get("run", "").endswith("venv/bin/python -m pytest -q --ignore=tests/lab")
               for s in jobs["test"]["steps"])
    lab = " ".join(s.get("run", "") for s in jobs["lab"]["steps"])
    assert "tenancy lab build" in lab and lab.endswith("venv/bin/python -m pytest -q tests/lab")
    assert steps_using(jobs["lab"], "actions/cache")[0]["with"]["path"] == "~/.cache/tenancy-lab"

    preview = jobs["preview"]
    assert steps_using(preview, "actions/checkout")[0]["with"]["fetch-depth"] == 0
    command = " ".join(s.get("run", "") for s in preview["steps"])
    assert '--base "origin/${BASE_REF}"' in command and "> preview.md" in command
    assert all(f"--stack {stack}" in command for stack in STACKS)
    assert steps_using(preview, "actions/upload-artifact")[0]["with"]["path"] == "preview.md"


def test_one_comment_per_pull_request_and_none_from_forks():
    jobs = load("pull-request.yml")["jobs"]
    comment = jobs["comment"]
    assert comment["needs"] == "preview"
    assert "github.event.pull_request.head.repo.full_name == github.repository" in comment["if"]
    script = steps_using(comment, "actions/github-script")[0]["with"]["script"]
    assert "require('./.github/scripts/preview-comment.js')" in script
    assert "<!-- tenancy-preview -->" in (REPO_ROOT / ".github" / "scripts" / "preview-comment.js").read_text()
    # No other job may write PR comments: the pulumi previews would overwrite each other.
    for name, job in jobs.items():
        for step in steps_using(job, "pulumi/actions"):
            assert step["with"]["comment-on-pr"] is False, name


def test_pulumi_preview_runs_per_stack_only_with_credentials():
    jobs = load("pull-request.yml")["jobs"]
    check = jobs["pulumi-credentials"]
    assert check["outputs"]["available"] == "${{ steps.check.outputs.available }}"
    probe_env = check["steps"][0]["env"]
    assert {"PULUMI_ACCESS_TOKEN", "KUBECONFIG_B64"} <= set(probe_env)
    job = jobs["pulumi-preview"]
    assert job["needs"] == "pulumi-credentials"
    assert job["if"] == "needs.pulumi-credentials.outputs.available == 'true'"
    assert job["strategy"]["matrix"]["stack"] == STACKS
    pulumi = steps_using(job, "pulumi/actions")[0]["with"]
    assert pulumi["command"] == "preview" and pulumi["stack-name"] == "${{ matrix.stack }}"
    assert pulumi["policyPacks"] == "guardrails"


# ---------------------------------------------------------------------------------------------- deploy


def test_deploy_goes_dev_then_staging_then_prod():
    workflow = load("deploy.yml")
    on = triggers(workflow)
    assert on["push"] == {"branches": ["main"]} and "workflow_dispatch" in on
    jobs = workflow["jobs"]
    assert list(jobs) == STACKS
    assert "needs" not in jobs["dev"] and jobs["staging"]["needs"] == "dev" and jobs["prod"]["needs"] == "staging"
    for stack, job in jobs.items():
        assert job["uses"] == "./.github/workflows/pulumi-up.yml"
        assert job["with"] == {"stack": stack}


def test_each_stage_is_an_environment_and_never_runs_twice_at_once():
    workflow = load("pulumi-up.yml")
    assert list(triggers(workflow)) == ["workflow_call"]
    job = workflow["jobs"]["up"]
    assert job["environment"] == "${{ inputs.stack }}"
    assert job["concurrency"] == {"group": "pulumi-${{ inputs.stack }}", "cancel-in-progress": False}
    # A preview with the same pack gates the `up`: the action's `up` skips the preview, the one place Pulumi
    # refuses a protected delete before deleting anything else (tests/lab/test_deploy.py).
    preview, up = (s["with"] for s in steps_using(job, "pulumi/actions"))
    for step, command in ((preview, "preview"), (up, "up")):
        assert (step["command"], step["stack-name"], step["policyPacks"]) == (command, "${{ inputs.stack }}",
                                                                              "guardrails")
    kubeconfig = next(s for s in job["steps"] if "KUBECONFIG_B64" in s.get("env", {}))["run"]
    # The file must exist only with owner-only permissions from its first byte.
    assert kubeconfig.index("umask 077") < kubeconfig.index("base64 --decode")


# ---------------------------------------------------------------------------------------------- e2e


def test_e2e_runs_nightly_on_an_enforcing_cni():
    workflow = load("e2e-kind.yml")
    on = triggers(workflow)
    assert "workflow_dispatch" in on and on["schedule"][0]["cron"]
    assert re.fullmatch(r"v\d+\.\d+\.\d+", workflow["env"]["CALICO_VERSION"])
    kind = yaml.safe_load((REPO_ROOT / "e2e" / "kind-config.yaml").read_text())
    assert kind["networking"]["disableDefaultCNI"] is True

    # Pod IPs must count as cluster-internal for the proxy's ipBlock, as they do for the engine.
    pods = ipaddress.ip_network(kind["networking"]["podSubnet"])
    stack = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())["config"]["tenancy:cluster"]
    cidrs = stack.get("egressProxy", {}).get("clusterCidrs", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"])
    assert any(pods.subnet_of(ipaddress.ip_network(c)) for c in cidrs)

    steps = workflow["jobs"]["e2e"]["steps"]
    runs = [s.get("run", "") for s in steps]
    order = [next(i for i, r in enumerate(runs) if needle in r)
             for needle in ("kind_overrides.py", "calico.yaml", "pulumi up --yes --stack dev", "e2e/probe.py")]
    assert order == sorted(order)
    assert any(s.get("if") == "always()" and s.get("uses", "").startswith("actions/upload-artifact") for s in steps)
