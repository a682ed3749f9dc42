"""The broken-manifest corpus (tests/bad_manifests): files `matrix` and `check` must refuse with exit 2 and the
exact located lines in the `.expected` next to each file.

Lines name the file as the command was given it: the corpus tests run from inside tests/bad_manifests with the
bare file name. `python -m tests.analysis.checks.bad_manifests FILE...` prints what the loader says about each file
today, to help write a new `.expected` (read it before trusting it). See tests/bad_manifests/README.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.paths import TESTS_DIR

CORPUS_DIR = TESTS_DIR / "bad_manifests"


def bad_manifest_files() -> list[Path]:
    """Every broken manifest of the corpus (absolute paths, in numeric order)."""
    return sorted(p for p in CORPUS_DIR.glob("[0-9][0-9]-*") if p.suffix in (".yaml", ".yml", ".json"))


def expected_problems(path: Path) -> list[str]:
    return path.with_suffix(".expected").read_text(encoding="utf-8").splitlines()


def actual_problems(name: str) -> list[str]:
    """What the manifest loader reports for `name` (relative to the current directory); [] if it loads."""
    from analysis.reachability import ManifestError, load_paths

    try:
        load_paths([name])
    except ManifestError as exc:
        return exc.problems
    return []


if __name__ == "__main__":
    for path in [Path(arg).resolve() for arg in sys.argv[1:]]:
        os.chdir(path.parent)
        print(f"== {path.name}")
        print("\n".join(actual_problems(path.name)) or "(loads)")
