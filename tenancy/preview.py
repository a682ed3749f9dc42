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
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from analysis.reachability import Cluster, ManifestError, load_paths
from analysis.review import ReviewSection, failure_section, fit, review_clusters
from analysis.review.markdown import BUDGET, Section, code
from stackconfig.load import stack_name_problem
from tenancy import signals
from tenancy.progress import Progress

MARKER = "<!-- tenancy-preview -->"
RENDER_TIMEOUT = 900
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


def _stack_of(file_name: str) -> str | None:
    if file_name.startswith("Pulumi.") and file_name.endswith(".yaml") and len(file_name) > len("Pulumi..yaml"):
        return file_name[len("Pulumi."):-len(".yaml")]
    return None


def working_tree_stacks(project: Path) -> list[str]:
    return sorted(s for p in project.glob("Pulumi.*.yaml") if (s := _stack_of(p.name)) is not None)


def default_stacks(project: Path, commit: str) -> list[str]:
    """Both sides' stacks: one deleted (or added) since `commit` is a change to review too."""
    return sorted({*working_tree_stacks(project), *stacks_at(project, commit)})


def stacks_at(project: Path, commit: str) -> list[str]:
    """The stacks whose Pulumi.<stack>.yaml the project directory holds at `commit`."""
    listed = _git(["ls-tree", "--name-only", commit, "--", "."], project)  # relative to the project directory
    if listed.returncode != 0:
        return []
    return sorted(s for line in listed.stdout.splitlines() if (s := _stack_of(line.rsplit("/", 1)[-1])) is not None)


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

    def remove() -> None:
        if path.exists():
            _git(["worktree", "remove", "--force", str(path)], project)
        shutil.rmtree(tmp, ignore_errors=True)
        # A worktree whose directory vanished some other way leaves a registration behind.
        _git(["worktree", "prune"], project)

    with signals.cleanup(remove):  # Ctrl-C or SIGTERM: removed before the process exits
        try:
            added = _git(["worktree", "add", "--detach", "--quiet", str(path), commit], project)
            if added.returncode != 0:
                raise PreviewError(f"git worktree add failed: {added.stderr.strip()}")
            yield path
        finally:
            remove()


_renders: set[subprocess.Popen] = set()


def _stop_renders() -> None:
    for proc in list(_renders):
        proc.kill()
        proc.wait()


def render_side(cwd: Path, stack: str, out: Path) -> Side:
    """`python -m tenancy render` as the checkout in `cwd` implements it."""
    if not (cwd / stack_file(stack)).exists():
        return Side(missing=True)
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "tenancy", "render", "--stack", stack, "--out", str(out)]
    with subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        _renders.add(proc)  # a signal stops the renders before the worktree goes
        try:
            stdout, stderr = proc.communicate(timeout=RENDER_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return Side(error=[f"render did not finish within {RENDER_TIMEOUT} s"])
        finally:
            _renders.discard(proc)
    if proc.returncode != 0:
        text = _ANSI.sub("", stderr + stdout)
        return Side(error=[line.rstrip() for line in text.strip().splitlines()] or [f"exit code {proc.returncode}"])
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
    for stack in stacks:
        problem = stack_name_problem(stack)
        if problem:
            raise PreviewError(problem)
    commit, prefix = resolve(project, ref)
    stacks = list(dict.fromkeys(stacks or default_stacks(project, commit)))
    if not stacks:
        raise PreviewError(f"no Pulumi.<stack>.yaml in {project} nor at {ref}; name stacks with --stack")
    unknown = [s for s in stacks if not (project / stack_file(s)).exists()
               and not exists_at(project, commit, prefix + stack_file(s))]
    if unknown:
        raise PreviewError(f"no {stack_file(unknown[0])} in the working tree nor at {ref}")
    with worktree(project, commit) as base_tree, tempfile.TemporaryDirectory(prefix="tenancy-renders-") as tmp, \
            signals.cleanup(lambda: shutil.rmtree(tmp, ignore_errors=True)), signals.cleanup(_stop_renders):
        jobs = [(stack, side, base_tree / prefix if side == "base" else project)
                for stack in stacks for side in ("base", "head")]
        # Each render is a separate Python process dominated by CPU: run them side by side.
        with ThreadPoolExecutor(max_workers=max(1, min(len(jobs), os.cpu_count() or 2))) as pool, \
                Progress("rendering stacks at the base and in the working tree", total=len(jobs)) as progress:
            futures = {(stack, side): pool.submit(render_side, cwd, stack, Path(tmp) / side / stack)
                       for stack, side, cwd in jobs}
            for _ in as_completed(futures.values()):
                progress.advance()
            sides = {key: f.result() for key, f in futures.items()}
        results = [section(stack, sides[(stack, "base")], sides[(stack, "head")], ref) for stack in stacks]
    head = f"{MARKER}\n## Tenancy preview against {code(ref)} ({commit[:12]})"
    return fit([s for s, _ in results], head=head, budget=budget), any(failed for _, failed in results)
