"""Every broken stack file of the corpus, through the render CLI: exit 2, the exact problem lines on stderr, no
traceback, nothing written and nothing registered with Pulumi."""

from __future__ import annotations

import shutil

import pytest

import tenancy.render
from tenancy.cli import main as cli
from tests.stackconfig.bad_corpus import bad_config_files, expected_problems


@pytest.mark.parametrize("stack_file", bad_config_files(), ids=lambda p: p.stem)
def test_bad_config_is_refused_by_render(stack_file, tmp_path, capsys, monkeypatch):
    shutil.copyfile(stack_file, tmp_path / "Pulumi.bad.yaml")
    registered = []
    monkeypatch.setattr(tenancy.render, "record", lambda *a, **k: registered.append(a))
    out = tmp_path / "out"

    code = cli(["render", "--stack", "bad", "--config-dir", str(tmp_path), "--out", str(out)])

    err = capsys.readouterr().err
    assert code == 2
    assert not out.exists()
    assert registered == [], "a bad config reached the Pulumi program"
    assert "Traceback" not in err
    lines = [line.strip() for line in err.splitlines()[1:]]  # first line: "error: ... nothing written"
    assert lines == expected_problems(stack_file, shown_as=str(tmp_path / "Pulumi.bad.yaml"))


def test_corpus_is_large_enough():
    assert len(bad_config_files()) >= 30
