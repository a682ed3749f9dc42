"""Every broken manifest of tests/bad_manifests is refused by `matrix` and by `check` alike: exit 2, nothing on
stdout, exactly the expected located lines on stderr (so no traceback either)."""

from __future__ import annotations

import pytest

from tenancy.cli import main

from .bad_manifests import CORPUS_DIR, bad_manifest_files, expected_problems

FILES = bad_manifest_files()
COMMANDS = {
    "matrix": lambda name: ["matrix", name],
    "check": lambda name: ["check", name],
    # With a stack the intent changes, not what counts as unreadable.
    "check --stack dev": lambda name: ["check", name, "--stack", "dev", "--config-dir", str(CORPUS_DIR.parent.parent)],
}


def test_the_corpus_is_big_enough_and_complete():
    assert len(FILES) >= 15
    for path in FILES:
        assert expected_problems(path), f"{path.name} has no .expected lines"


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_broken_manifest_exits_2_with_its_exact_lines(path, command, capsys, monkeypatch):
    monkeypatch.chdir(CORPUS_DIR)
    assert main(COMMANDS[command](path.name)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [f"error: {line}" for line in expected_problems(path)]


def test_files_are_checked_together_and_every_problem_is_reported(capsys, monkeypatch):
    # Two broken files at once: both files' lines, not just the first problem found.
    monkeypatch.chdir(CORPUS_DIR)
    first, second = "08-bad-cidr.yaml", "17-bad-object-name.yaml"
    assert main(["check", first, second]) == 2
    err = capsys.readouterr().err.splitlines()
    expected = [f"error: {line}" for name in (first, second) for line in expected_problems(CORPUS_DIR / name)]
    assert sorted(err) == sorted(expected)
