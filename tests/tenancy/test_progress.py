"""Progress (issue 10): on stderr, only when stderr is a terminal, only once a run takes longer than the delay
(TENANCY_PROGRESS_DELAY, 1.5 s by default); never on stdout, never in a pipe."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import yaml

from specs.plan import stack_objects
from stackconfig import parse_config

ROOT = Path(__file__).resolve().parents[2]


def manifests(tmp_path: Path, tenants: int = 15) -> Path:
    config = parse_config({"cluster": {"cni": "calico"}, "tenants": [
        {"name": f"t{i}", "apps": [{"name": "app", "frontend": {"image": "nginx:1.27"},
                                    "backend": {"image": "nginx:1.27"}}]} for i in range(tenants)]}).config
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump_all(stack_objects(config)))
    return path


def run_on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """(exit code, stdout, what the terminal on stderr showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "tenancy", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=slave, env={**os.environ, **env})
    os.close(slave)
    shown = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        elif proc.poll() is not None:
            break
    out = proc.stdout.read().decode() if proc.stdout else ""
    os.close(master)
    return proc.wait(), out, shown.decode(errors="replace")


def test_check_shows_progress_on_a_terminal_and_not_in_a_pipe(tmp_path):
    path = manifests(tmp_path)
    code, out, shown = run_on_a_terminal(["check", str(path)], {"TENANCY_PROGRESS_DELAY": "0"})
    assert code in (0, 1)
    assert "validating objects" in shown
    assert "validating objects" not in out
    piped = subprocess.run([sys.executable, "-m", "tenancy", "check", str(path)], cwd=ROOT, capture_output=True,
                           text=True, env={**os.environ, "TENANCY_PROGRESS_DELAY": "0"})
    assert "validating objects" not in piped.stderr + piped.stdout


def test_no_progress_for_a_quick_run(tmp_path):
    path = manifests(tmp_path, tenants=2)
    code, _, shown = run_on_a_terminal(["matrix", str(path)], {"TENANCY_PROGRESS_DELAY": "30"})
    assert code == 0
    assert "reading manifests" not in shown and "computing" not in shown
