"""Every broken stack file of tests/bad_configs is refused with exactly the problem lines next to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stackconfig.bad_corpus import CORPUS_DIR, actual_problems, bad_config_files, expected_file, expected_problems

FILES = bad_config_files()


@pytest.mark.parametrize("stack_file", FILES, ids=[f.stem for f in FILES])
def test_bad_config_reports_exactly_the_expected_problems(stack_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Read by bare name from inside the corpus so file-level problems match the .expected files on any machine.
    monkeypatch.chdir(CORPUS_DIR)
    assert actual_problems(Path(stack_file.name)) == expected_problems(stack_file)


def test_corpus_is_complete_and_well_formed() -> None:
    names = [f.name for f in FILES]
    assert len(FILES) >= 32
    numbers = [name[:2] for name in names]
    assert len(set(numbers)) == len(numbers), "two corpus files share a number"
    for stack_file in FILES:
        lines = expected_problems(stack_file)
        assert lines, f"{expected_file(stack_file).name} is missing or empty: a bad config must report something"
        assert all(line.strip() == line and line for line in lines), f"blank or padded line in {stack_file.stem}"
    # An .expected without its .yaml would silently test nothing.
    orphans = {p.stem for p in CORPUS_DIR.glob("*.expected")} - {f.stem for f in FILES}
    assert not orphans


def test_expected_problems_can_name_the_file_as_another_caller_shows_it() -> None:
    malformed = CORPUS_DIR / "40-malformed-yaml.yaml"
    [line] = expected_problems(malformed, shown_as="Pulumi.bad.yaml")
    assert line.startswith("Pulumi.bad.yaml: not valid YAML (line 9, column 18)")
    # Config-path lines do not name a file and stay as they are.
    assert expected_problems(CORPUS_DIR / "29-missing-tenants.yaml", shown_as="x") == ["tenancy:tenants: required"]
