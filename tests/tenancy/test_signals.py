"""Ctrl-C and SIGTERM (issue 10): at any point of a 300-tenant render the process exits within 5 s with 130 / 143,
one line on stderr, no output directory and no staging directory; a swap in progress completes first."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def big_stack(directory: Path, n: int = 300) -> None:
    tenants = []
    for i in range(n):
        app = {"name": "app", "frontend": {"image": "nginx:1.27", "replicas": 1},
               "backend": {"image": "example/api:1", "replicas": 1, "internetEgress": i % 3 == 0},
               "database": {"storage": "1Gi"}}
        if i % 3 == 0:
            app["frontend"]["loadBalancer"] = {"sourceRanges": [f"198.51.{i % 250}.0/24"]}
        tenants.append({"name": f"t{i:04d}", "apps": [app]})
    (directory / "Pulumi.big.yaml").write_text(yaml.safe_dump(
        {"config": {"tenancy:cluster": {"cni": "calico"}, "tenancy:tenants": tenants}}))


MESSAGES = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}
CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


# Delays cover start-up (imports), config validation and the Pulumi program itself (the render takes far longer
# than the last delay here). Before the first line of the project runs, the interpreter's own start-up (tens of
# milliseconds) keeps Python's default handling: the process dies of the signal and nothing has been written.
@pytest.mark.parametrize("signum, delay", [(signal.SIGINT, 1.0), (signal.SIGTERM, 1.5), (signal.SIGINT, 4.0),
                                           (signal.SIGTERM, 8.0)])
def test_a_signal_during_a_300_tenant_render_exits_promptly_leaving_nothing(tmp_path, signum, delay):
    big_stack(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "tenancy", "render", "--stack", "big", "--config-dir",
                             str(tmp_path), "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    assert proc.poll() is None, "the render finished before the signal: make the stack bigger"
    sent = time.perf_counter()
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert time.perf_counter() - sent < 5
    assert proc.returncode == CODES[signum]
    assert err.strip().splitlines()[-1:] == [MESSAGES[signum]]
    assert "Traceback" not in err and "Exception ignored" not in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Pulumi.big.yaml"]  # no staging directory either


WRITER = """
import os, signal, sys, threading
from pathlib import Path
from tenancy import signals
from tenancy.render import write_atomically

signals.install()
out, mode = Path(sys.argv[1]), sys.argv[2]
if mode == "previous":
    write_atomically({"old.yaml": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "old"}}]}, out,
                     "# the previous render\\n")
    sys.exit(0)
files = {f"ns{i}.yaml": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{j}", "namespace": f"ns{i}"},
                          "data": {"k": "v" * 200}} for j in range(100)] for i in range(300)}
if mode == "writing":
    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
else:  # the signal arrives as the finished render is being swapped in
    from contextlib import contextmanager
    deferred = signals.deferred
    @contextmanager
    def deferred_and_signalled():
        with deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            yield
    signals.deferred = deferred_and_signalled
write_atomically(files, out, "# test\\n")
print("finished")
"""


def previous_render(out: Path) -> set[str]:
    subprocess.run([sys.executable, "-c", WRITER, str(out), "previous"], cwd=ROOT, check=True, timeout=120)
    return {p.name for p in out.iterdir()}


def test_a_signal_while_writing_leaves_the_previous_render_and_no_staging(tmp_path):
    out = tmp_path / "out"
    before = previous_render(out)
    done = subprocess.run([sys.executable, "-c", WRITER, str(out), "writing"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 143, done.stderr
    assert done.stderr.strip() == "terminated"
    assert {p.name for p in out.iterdir()} == before and "old.yaml" in before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_signal_during_the_swap_lets_the_swap_finish(tmp_path):
    out = tmp_path / "out"
    previous_render(out)
    done = subprocess.run([sys.executable, "-c", WRITER, str(out), "swap"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 143, done.stderr
    assert "finished" not in done.stdout
    assert len(list(out.glob("*.yaml"))) == 300 and not (out / "old.yaml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
