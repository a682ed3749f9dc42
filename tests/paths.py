"""Where the repository's files are, for tests that read them (stack files, workflows, corpora): one place, so a
test module can move without recounting its parents."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTS_DIR = REPO_ROOT / "tests"
