"""preview --base REF without --stack (issue 10 item 7): the stacks of both sides, so a stack deleted or added since
REF is reviewed too."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tenancy.preview import default_stacks, resolve


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo, check=True,
                   capture_output=True)


def test_the_default_is_the_union_of_both_sides_stacks(tmp_path):
    project = tmp_path / "repo" / "infra"
    project.mkdir(parents=True)
    git(tmp_path / "repo", "init", "-q")
    for stack in ("old", "both"):
        (project / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    (project / "Pulumi.yaml").write_text("name: tenancy\n")
    git(tmp_path / "repo", "add", "-A")
    git(tmp_path / "repo", "commit", "-q", "-m", "base")
    (project / "Pulumi.old.yaml").unlink()
    (project / "Pulumi.new.yaml").write_text("config: {}\n")
    commit, prefix = resolve(project, "HEAD")
    assert prefix == "infra/"
    assert default_stacks(project, commit) == ["both", "new", "old"]
