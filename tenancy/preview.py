"""`tenancy preview`: render each stack at a base git ref and in the working tree, and review the difference.

Each side is rendered by its own code: the base in a temporary `git worktree` of REF, the head in the working
tree, both by `python -m tenancy render` in a subprocess started there. Importing the base's program into this
process would mix two versions of the same modules; a subprocess per side cannot.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from analysis.reachability import Cluster, ManifestError, load_paths
from analysis.review import ReviewSection, failure_section, fit, review_clusters
from analysis.review.markdown import BUDGET, Section, code

MARKER = "<!-- tenancy-preview -->"
RENDER_TIMEOUT = 900
# Pulumi's own rule for stack names; anything else could also escape the project directory as a path.
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]+\Z")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


class PreviewError(Exception):
    """A problem with the arguments or the repository: nothing was rendered."""


@dataclass
class Side:
    out: Path | None = None  # the render, when it succeeded
    missing: bool = False  # no Pulumi.<stack>.yaml on this side
    error: list[str] = field(default_factory=list)  # the render's output, when it failed


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)


def stack_file(stack: str) -> str:
    return f"Pulumi.{stack}.yaml"


def working_tree_stacks(project: Path) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project.glob("Pulumi.*.yaml"))


def resolve(project: Path, ref: str) -> tuple[str, str]:
    """(commit, project path relative to the repository root, "" or ending in "/") or PreviewError."""
    prefix = _git(["rev-parse", "--show-prefix"], project)
    if prefix.returncode != 0:
        raise PreviewError(f"{project} is not inside a git repository: {prefix.stderr.strip()}")
    if ref.startswith("-"):
        raise PreviewError(f"unknown git ref {ref!r}")
    commit = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], project)
    if commit.returncode != 0:
        raise PreviewError(f"unknown git ref {ref!r}: no such branch, tag or commit here (in CI, fetch the base "
                           "first, e.g. actions/checkout with fetch-depth: 0)")
    return commit.stdout.strip(), prefix.stdout.strip()


def exists_at(project: Path, commit: str, path: str) -> bool:
    return _git(["cat-file", "-e", f"{commit}:{path}"], project).returncode == 0


@contextmanager
def worktree(project: Path, commit: str) -> Iterator[Path]:
    """A detached checkout of `commit`, removed again whatever happens inside."""
    tmp = Path(tempfile.mkdtemp(prefix="tenancy-preview-"))
    path = tmp / "base"
    try:
        added = _git(["worktree", "add", "--detach", "--quiet", str(path), commit], project)
        if added.returncode != 0:
            raise PreviewError(f"git worktree add failed: {added.stderr.strip()}")
        yield path
    finally:
        if path.exists():
            _git(["worktree", "remove", "--force", str(path)], project)
        shutil.rmtree(tmp, ignore_errors=True)
        # A worktree whose directory vanished some other way leaves a registration behind.
        _git(["worktree", "prune"], project)


def render(cwd: Path, stack: str, out: Path) -> Side:
    """`python -m tenancy render` as the checkout in `cwd` implements it."""
    if not (cwd / stack_file(stack)).exists():
        return Side(missing=True)
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "tenancy", "render", "--stack", stack, "--out", str(out)]
    try:
        done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=RENDER_TIMEOUT)
    except subprocess.TimeoutExpired:
        return Side(error=[f"render did not finish within {RENDER_TIMEOUT} s"])
    if done.returncode != 0:
        text = _ANSI.sub("", done.stderr + done.stdout)
        return Side(error=[line.rstrip() for line in text.strip().splitlines()] or [f"exit code {done.returncode}"])
    return Side(out=out)


def _load(side: Side) -> Cluster:
    return Cluster() if side.missing else load_paths([str(side.out)])


def section(stack: str, base: Side, head: Side, ref: str) -> tuple[Section, bool]:
    """The stack's section and whether it failed."""
    if base.error:
        return failure_section(stack, f"render failed at base {code(ref)}", base.error), True
    if head.error:
        return failure_section(stack, "render failed in this change", head.error), True
    note = ""
    if base.missing:
        note = f"New stack: {code(stack_file(stack))} does not exist at {code(ref)}, so everything is added."
    elif head.missing:
        note = f"Stack removed: {code(stack_file(stack))} no longer exists, so everything is removed."
    try:
        old, new = _load(base), _load(head)
    except ManifestError as exc:
        return failure_section(stack, "rendered manifests could not be read", exc.problems), True
    return ReviewSection(review_clusters(old, new, stack, note=note)), False


def preview(project: Path, ref: str, stacks: list[str], budget: int = BUDGET) -> tuple[str, bool]:
    """The PR comment for `stacks` between `ref` and the working tree of `project`, and whether any failed."""
    bad = [s for s in stacks if not STACK_NAME.match(s)]
    if bad:
        raise PreviewError(f"invalid stack name {bad[0]!r} (letters, digits, '-', '_' and '.')")
    commit, prefix = resolve(project, ref)
    stacks = list(dict.fromkeys(stacks or working_tree_stacks(project)))
    if not stacks:
        raise PreviewError(f"no Pulumi.<stack>.yaml in {project}; name stacks with --stack")
    unknown = [s for s in stacks if not (project / stack_file(s)).exists()
               and not exists_at(project, commit, prefix + stack_file(s))]
    if unknown:
        raise PreviewError(f"no {stack_file(unknown[0])} in the working tree nor at {ref}")
    with worktree(project, commit) as base_tree, tempfile.TemporaryDirectory(prefix="tenancy-renders-") as tmp:
        jobs = [(stack, side, base_tree / prefix if side == "base" else project)
                for stack in stacks for side in ("base", "head")]
        # Each render is a separate Python process dominated by CPU: run them side by side.
        with ThreadPoolExecutor(max_workers=max(1, min(len(jobs), os.cpu_count() or 2))) as pool:
            futures = {(stack, side): pool.submit(render, cwd, stack, Path(tmp) / side / stack)
                       for stack, side, cwd in jobs}
            sides = {key: f.result() for key, f in futures.items()}
        results = [section(stack, sides[(stack, "base")], sides[(stack, "head")], ref) for stack in stacks]
    head = f"{MARKER}\n## Tenancy preview against {code(ref)} ({commit[:12]})"
    return fit([s for s, _ in results], head=head, budget=budget), any(failed for _, failed in results)
