"""`tenancy preview` on a throwaway git repository: each side rendered by its own checkout, one comment out."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tenancy.cli import main
from tests.paths import REPO_ROOT

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
NEW_CONSUMER = """          database: {image: postgres:16, storage: 5Gi, passwordSecret: portal-db-credentials}
          consumers:
            - {tenant: acme, app: shop, tier: backend}
"""
BROKEN = """config:
  tenancy:cluster: {cni: flannel}
  tenancy:tenants: [{name: acme, apps: [{name: shop, frontend: {image: x}, backend: {image: y}}]}]
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """This project as committed, then one commit letting acme's shop backend consume globex's portal backend."""
    repo = tmp_path_factory.mktemp("preview") / "project"
    # Tracked plus untracked-but-not-ignored files: the working tree as it runs, even modules not yet committed.
    files = git(REPO_ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    for name in filter(None, files):
        src = REPO_ROOT / name
        if src.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, repo / name)
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "-m", "base")
    stack = repo / "Pulumi.dev.yaml"
    text = stack.read_text()
    old = "          database: {image: postgres:16, storage: 5Gi, passwordSecret: portal-db-credentials}\n"
    assert old in text
    stack.write_text(text.replace(old, NEW_CONSUMER))
    git(repo, "commit", "--quiet", "--no-verify", "-am", "acme's shop consumes globex's portal")
    return repo


def test_preview_against_previous_commit(repo, monkeypatch, capsys):
    monkeypatch.chdir(repo)
    # A stack only in the working tree whose render fails, with colours forced on: the failure is reported in
    # its own section, in plain text, and the other stack is still previewed.
    (repo / "Pulumi.broken.yaml").write_text(BROKEN)
    monkeypatch.setenv("FORCE_COLOR", "1")
    try:
        code = main(["preview", "--base", "HEAD~1", "--stack", "dev", "--stack", "broken"])
    finally:
        (repo / "Pulumi.broken.yaml").unlink()
    out = capsys.readouterr().out
    assert code == 1
    assert "\x1b" not in out and len(out) < 60_000
    lines = out.splitlines()
    assert lines[0] == "<!-- tenancy-preview -->"
    assert lines[1].startswith("## Tenancy preview against `HEAD~1` (")
    dev = out[out.index("### ⚠️ dev:"):out.index("### ❌ broken")]
    # The new consumer also changes the two admin-tier cluster policies that Pass it (dev renders them).
    assert dev.splitlines()[0] == ("### ⚠️ dev: +2 resources, -0 removed, ~2 changed, 1 flow opened, 0 closed, "
                                   "1 cross-tenant, 2 cluster policies changed")
    assert "- ⚠️ `acme/shop-backend` → `globex/portal-backend`: `TCP 8000` — cross-tenant flow " \
           "(tenant acme -> tenant globex)" in dev
    # The README's example comment is this very change: it must still be what the tool prints.
    readme = (REPO_ROOT / "README.md").read_text()
    assert dev.strip() == readme.split("````markdown\n", 1)[1].split("\n````", 1)[0]
    broken = out[out.index("### ❌ broken"):]
    assert broken.splitlines()[0] == "### ❌ broken: render failed in this change"
    assert "flannel" in broken
    assert git(repo, "worktree", "list").count("\n") == 1  # the base checkout is gone again


def test_unknown_ref_and_unknown_stack_are_bad_arguments(repo, monkeypatch, capsys):
    monkeypatch.chdir(repo)
    assert main(["preview", "--base", "no-such-branch"]) == 2
    assert "unknown git ref 'no-such-branch'" in capsys.readouterr().err
    assert main(["preview", "--base", "HEAD", "--stack", "nope"]) == 2
    assert "no Pulumi.nope.yaml in the working tree nor at HEAD" in capsys.readouterr().err
    assert git(repo, "worktree", "list").count("\n") == 1
