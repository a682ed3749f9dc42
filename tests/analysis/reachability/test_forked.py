"""analysis.reachability.forked and the parallel read it gives manifests: the same answer as mapping here, in the
same order, whatever the child does - and no child outlives the call."""

from __future__ import annotations

import os
import time

import pytest

from analysis.reachability import forked, manifests


def square(x: int) -> int:
    return x * x


@pytest.mark.parametrize("split", [0, 1, 3, 7, 8, 20])
def test_results_are_the_serial_results_in_order(split):
    items = list(range(8))
    assert forked.map_split(items, square, split) == [x * x for x in items]


def test_a_failing_child_is_redone_here():
    parent = os.getpid()

    def only_here(x: int) -> int:
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return -x

    assert forked.map_split(list(range(6)), only_here, 2) == [0, -1, -2, -3, -4, -5]


def test_an_interrupted_parent_leaves_no_child(tmp_path):
    parent = os.getpid()
    marker = tmp_path / "child.pid"

    def slow(x: int) -> int:
        if os.getpid() != parent:
            # Written whole, then renamed: the parent must never see the marker empty.
            partial = tmp_path / "child.pid.partial"
            partial.write_text(str(os.getpid()))
            partial.rename(marker)
            time.sleep(60)
            return x
        while not marker.exists():
            time.sleep(0.01)
        raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        forked.map_split([1, 2], slow, 1)
    assert time.monotonic() - started < 10
    with pytest.raises(ProcessLookupError):
        os.kill(int(marker.read_text()), 0)


def test_a_large_read_gives_the_same_documents_and_problems_in_the_same_order(tmp_path, monkeypatch):
    for i in range(12):
        body = "".join(f"---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: n{i}-{j}}}\n" for j in range(50))
        (tmp_path / f"{i:02d}.yaml").write_text(body)
    (tmp_path / "03b.yaml").write_text("kind: [unclosed\n")
    (tmp_path / "07b.yaml").write_bytes(b"\xff\xfe not text")
    paths = [str(tmp_path), str(tmp_path / "missing.yaml")]

    serial_problems: list[str] = []
    serial = manifests.read_documents(paths, serial_problems)
    monkeypatch.setattr(manifests, "PARALLEL_FROM_BYTES", 1)
    monkeypatch.setattr(forked, "worthwhile", lambda total, threshold: True)
    splits: list[int] = []
    real = forked.map_split
    monkeypatch.setattr(forked, "map_split", lambda items, fn, at: splits.append(at) or real(items, fn, at))
    split_problems: list[str] = []
    split = manifests.read_documents(paths, split_problems)
    assert split == serial and len(serial) == 600
    assert split_problems == serial_problems and len(serial_problems) == 3
    assert 0 < splits[0] < 14  # the child did parse a part


@pytest.mark.parametrize("platform, cpus, expected", [("linux", {0, 1}, True), ("linux", {0}, False),
                                                      ("darwin", {0, 1}, False)])
def test_a_child_is_forked_only_on_linux_with_a_second_cpu(monkeypatch, platform, cpus, expected):
    monkeypatch.setattr(forked.sys, "platform", platform)
    monkeypatch.setattr(forked.os, "sched_getaffinity", lambda pid: cpus, raising=False)
    assert forked.worthwhile(10 << 20, 4 << 20) is expected
    assert forked.worthwhile(1 << 20, 4 << 20) is False
