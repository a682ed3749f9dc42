"""The bad-input corpus (tests/bad_configs): broken stack files and the exact problem lines each must produce.

Reusable outside this directory, e.g. to run `python -m tenancy render` on every file and expect exit 2:

    from tests.stackconfig.bad_corpus import bad_config_files, expected_problems

Paths in read-level problems (unreadable file, bad YAML, ...) appear as the file name alone: the corpus test
reads each file by its name from inside tests/bad_configs. A caller that shows the file under another path
passes `shown_as` to `expected_problems`. See tests/bad_configs/README.md.

`python -m tests.stackconfig.bad_corpus FILE...` prints what the config loader says about each file today, to help
write a new `.expected` (read it before trusting it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.paths import TESTS_DIR

CORPUS_DIR = TESTS_DIR / "bad_configs"


def bad_config_files() -> list[Path]:
    """Every broken stack file of the corpus (absolute paths, in numeric order)."""
    return sorted(CORPUS_DIR.glob("[0-9][0-9]-*.yaml"))


def expected_file(stack_file: Path) -> Path:
    return stack_file.with_suffix(".expected")


def expected_problems(stack_file: Path, shown_as: str | None = None) -> list[str]:
    """The problem lines `stack_file` must produce; `shown_as` replaces the file name where a line names the file."""
    lines = expected_file(stack_file).read_text(encoding="utf-8").splitlines()
    if shown_as is None:
        return lines
    prefix = f"{stack_file.name}:"
    return [f"{shown_as}:{line[len(prefix):]}" if line.startswith(prefix) else line for line in lines]


def actual_problems(stack_file: Path) -> list[str]:
    """What read_stack_file + parse_config report for `stack_file`, with paths shown as given; [] if it is valid."""
    from stackconfig import ConfigError, parse_config, read_stack_file

    try:
        parse_config(read_stack_file(stack_file).namespace_values())
    except ConfigError as exc:
        return exc.problems
    return []


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        path = Path(arg).resolve()
        os.chdir(path.parent)
        print(f"== {path.name}")
        print("\n".join(actual_problems(Path(path.name))) or "(valid)")
