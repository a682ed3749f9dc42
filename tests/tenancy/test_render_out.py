"""`render --out DIR` only ever replaces a render: never user files, a plain file, a symlink's target or a clone;
no moment without DIR, no staging left behind (exceptions, SIGTERM, a killed process, concurrent renders), the
umask decides permissions, and I/O failures are one line with exit 3."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

import tenancy.commands.render as render_command
from tenancy.cli import main
from tenancy.render import to_yaml, write_atomically

MARKER = ".tenancy-render"
REPO = Path(__file__).resolve().parents[2]
HEADER = "# Rendered by `python -m tenancy render --stack t` - do not edit; change Pulumi.t.yaml.\n"
FILES = {"_cluster.yaml": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "acme"}}],
         "acme.yaml": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "acme"}}]}


@pytest.fixture
def fake_render(monkeypatch):
    """The render command with the program stubbed out: these tests are about the writer, not the program."""
    import tenancy.render

    stub = SimpleNamespace(parsed=SimpleNamespace(warnings=[]), by_file=lambda: FILES)
    monkeypatch.setattr(tenancy.render, "render_stack", lambda *args, **kwargs: stub)
    monkeypatch.setattr(render_command, "render_stack", lambda *args, **kwargs: stub, raising=False)


def _render(out: Path) -> int:
    return main(["render", "--stack", "t", "--out", str(out)])


def _tree(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): (p.read_text() if p.is_file() else "<dir>")
            for p in sorted(path.rglob("*")) if not p.is_symlink()}


def _leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("kind", ["user-files", "plain-file", "clone"])
def test_anything_but_a_render_is_refused_and_left_alone(tmp_path, capsys, fake_render, kind):
    out = tmp_path / "out"
    if kind == "plain-file":
        out.write_text("precious\n")
    else:
        (out / "notes").mkdir(parents=True)
        (out / "notes" / "a.txt").write_text("precious\n")
        if kind == "clone":
            (out / ".git").mkdir()
            (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
            (out / "README.md").write_text("# a project\n")
    before = _tree(tmp_path)
    assert _render(out) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert str(out) in line and "refus" in line
    assert _tree(tmp_path) == before


def test_out_dot_inside_a_clone_deletes_nothing(tmp_path, capsys, fake_render, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / "program.py").write_text("print('hi')\n")
    before = _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["render", "--stack", "t", "--out", "."]) == 2
    _one_error_line(capsys.readouterr().err)
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("points_at", ["render", "user-files"])
def test_a_symlink_is_never_followed_into_a_wipe(tmp_path, capsys, fake_render, points_at):
    real = tmp_path / "real"
    if points_at == "render":
        assert _render(real) == 0
    else:
        real.mkdir()
        (real / "a.txt").write_text("precious\n")
    link = tmp_path / "link"
    link.symlink_to(real)
    before = _tree(real)
    capsys.readouterr()
    assert _render(link) == 2
    assert "symbolic link" in _one_error_line(capsys.readouterr().err)
    assert link.is_symlink() and _tree(real) == before


def test_a_render_replaces_an_earlier_render_an_empty_directory_and_a_pre_marker_render(tmp_path, fake_render):
    out = tmp_path / "out"
    assert _render(out) == 0
    assert (out / MARKER).is_file() and sorted(os.listdir(out)) == sorted([MARKER, *FILES])
    (out / "stale.yaml").write_text("# from a tenant since removed\n")
    assert _render(out) == 0
    assert not (out / "stale.yaml").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _render(empty) == 0 and (empty / "acme.yaml").is_file()
    legacy = tmp_path / "legacy"  # rendered before the marker existed: only *.yaml files, each with the header
    legacy.mkdir()
    for name in FILES:
        (legacy / name).write_text(HEADER + "---\n")
    assert _render(legacy) == 0 and (legacy / MARKER).is_file()


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_permissions_follow_the_umask(tmp_path, fake_render, umask):
    old = os.umask(umask)
    try:
        assert _render(tmp_path / "out") == 0
    finally:
        os.umask(old)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o777 & ~umask
    assert (tmp_path / "out" / "acme.yaml").stat().st_mode & 0o777 == 0o666 & ~umask


def test_there_is_no_moment_without_the_directory(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_atomically(FILES, out, HEADER)
    missing: list[str] = []
    real_rename = os.rename

    def watching_rename(src, dst):
        real_rename(src, dst)
        if not out.is_dir():
            missing.append(f"after rename({src}, {dst})")

    monkeypatch.setattr(os, "rename", watching_rename)
    write_atomically(FILES, out, HEADER)
    assert missing == []
    assert sorted(os.listdir(out)) == sorted([MARKER, *FILES])


def test_a_failed_write_leaves_the_old_render_and_no_staging(tmp_path, monkeypatch, capsys, fake_render):
    out = tmp_path / "out"
    assert _render(out) == 0
    before = _tree(out)
    real_write = Path.write_text

    def full_disk(self, *args, **kwargs):
        if self.name == "acme.yaml":
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full_disk)
    capsys.readouterr()
    assert _render(out) == 3
    line = _one_error_line(capsys.readouterr().err)
    assert str(out) in line and "no space left" in line
    assert _tree(out) == before and _leftovers(tmp_path, "out") == []


def test_a_read_only_parent_is_one_line_and_exit_3(tmp_path, monkeypatch, capsys, fake_render):
    import tempfile

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path))

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    assert _render(tmp_path / "out") == 3
    assert "read-only file system" in _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


def test_a_mount_point_is_refused(tmp_path, monkeypatch, capsys, fake_render):
    out = tmp_path / "mnt"
    out.mkdir()
    monkeypatch.setattr(os.path, "ismount", lambda p: os.fspath(p) == str(out))
    assert _render(out) == 2
    assert "mount point" in _one_error_line(capsys.readouterr().err)


_SLOW_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import tenancy.render as r
    real = r.to_yaml
    def slow(docs):
        Path(sys.argv[2]).write_text("writing")
        time.sleep(30)
        return real(docs)
    r.to_yaml = slow
    r.write_atomically({"a.yaml": [{"kind": "ConfigMap"}]}, Path(sys.argv[1]), "# Rendered by `python -m tenancy render`\\n")
""")


def test_sigterm_while_writing_leaves_the_old_render_and_no_staging(tmp_path):
    out = tmp_path / "out"
    write_atomically(FILES, out, HEADER)
    before = _tree(out)
    flag = tmp_path / "flag"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(out), str(flag)], cwd=REPO,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not flag.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert flag.exists(), proc.stderr.read() if proc.stderr else ""
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 143
    flag.unlink()
    assert _tree(out) == before and _leftovers(tmp_path, "out") == []


def test_staging_of_a_killed_render_is_removed_by_the_next(tmp_path):
    out = tmp_path / "out"
    flag = tmp_path / "flag"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(out), str(flag)], cwd=REPO)
    deadline = time.monotonic() + 60
    while not flag.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=30)
    flag.unlink()
    assert _leftovers(tmp_path, "out")  # SIGKILL cannot be caught ...
    write_atomically(FILES, out, HEADER)
    assert _leftovers(tmp_path, "out") == []  # ... but the next render clears it


_RACER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from tenancy.render import to_yaml, write_atomically
    files = {f"{n}.yaml": [{"kind": "ConfigMap", "metadata": {"name": sys.argv[2]}}] for n in ("_cluster", "a", "b")}
    for _ in range(10):
        write_atomically(files, Path(sys.argv[1]), "# Rendered by `python -m tenancy render`\\n")
""")


def test_concurrent_renders_all_succeed_and_leave_one_complete_render(tmp_path):
    out = tmp_path / "out"
    procs = [subprocess.Popen([sys.executable, "-c", _RACER, str(out), f"writer{i}"], cwd=REPO,
                              stderr=subprocess.PIPE, text=True) for i in range(4)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errors
    assert sorted(os.listdir(out)) == sorted([MARKER, "_cluster.yaml", "a.yaml", "b.yaml"])
    writers = {(out / f).read_text().split("name: ")[1].split()[0] for f in ("_cluster.yaml", "a.yaml", "b.yaml")}
    assert len(writers) == 1  # one render, whole: never files of two renders mixed
    assert _leftovers(tmp_path, "out") == []


def test_refusals_are_exceptions_of_their_own_for_library_callers(tmp_path):
    from tenancy.outdir import OutputFailed, OutputRefused

    (tmp_path / "user").mkdir()
    (tmp_path / "user" / "x").write_text("x")
    with pytest.raises(OutputRefused):
        write_atomically(FILES, tmp_path / "user", HEADER)
    assert issubclass(OutputFailed, Exception)


def test_strings_a_yaml_1_1_reader_takes_for_booleans_stay_strings():
    """kubectl reads YAML 1.1: an unquoted `y` or `n` would reach the API server as a boolean label value."""
    docs = [{"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": "a", "labels": {f"k{v}": v for v in ("y", "Y", "n", "N", "yes", "off", "x")}}}]
    text = to_yaml(docs)
    for value in ("y", "Y", "n", "N"):
        assert f"k{value}: '{value}'" in text, text
    assert yaml.safe_load(text)["metadata"]["labels"] == docs[0]["metadata"]["labels"]
