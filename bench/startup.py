"""Whole-process time of `tenancy matrix` against NCA (np-guard's netpol-analyzer) on the same manifests.

    venv/bin/python bench/startup.py [--tenants 50] [--repeat 7] [--nca PATH]

Writes the n-tenant stack's objects (bench/stacks.py: the program's own builders) as one YAML file in a temporary
directory, then times, alternately and each in a fresh process, `python -m tenancy matrix DIR` (every allowed
pair with its port set) and `k8snetpolicy list --dirpath DIR` (NCA's connectivity list: the same question). It
prints the best and median wall time of each and NCA's time divided by ours (target: at least 20 at 50 tenants).

NCA is not a dependency of this project; build it once, outside the repository, from the Go module proxy:

    GOBIN=/tmp/nca go install github.com/np-guard/netpol-analyzer/cmd/netpolicy@v1.4.4   # then mv netpolicy k8snetpolicy

(with a module that requires github.com/np-guard/netpol-analyzer v1.4.4 when the proxy lists no versions).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stacks import write_manifests

ROOT = Path(__file__).resolve().parent.parent


# As installed: with bytecode caches, which PYTHONDONTWRITEBYTECODE (set on some CI machines) would leave unwritten,
# making every run compile the modules it imports (about 40 ms of this command).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of one run of `cmd`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()[:400]}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=7, help="runs of each; best and median are reported")
    parser.add_argument("--nca", default=os.environ.get("NCA") or shutil.which("k8snetpolicy") or "/tmp/nca/bin/k8snetpolicy",
                        help="path of the k8snetpolicy binary (default: $NCA, then PATH, then /tmp/nca/bin)")
    args = parser.parse_args()
    if not Path(args.nca).is_file():
        sys.exit(f"no NCA binary at {args.nca}: build it as this script's docstring says, or pass --nca PATH")
    with tempfile.TemporaryDirectory(prefix="tenancy-startup-") as tmp:
        cluster = Path(tmp) / "cluster"
        cluster.mkdir()
        write_manifests(args.tenants, cluster / "cluster.yaml")
        ours_cmd = [sys.executable, "-m", "tenancy", "matrix", str(cluster)]
        nca_cmd = [args.nca, "list", "--dirpath", str(cluster)]
        ours: list[tuple[float, float]] = []
        nca: list[tuple[float, float]] = []
        timed(ours_cmd, ROOT)  # writes the bytecode caches; not counted
        for _ in range(args.repeat):
            ours.append(timed(ours_cmd, ROOT))
            nca.append(timed(nca_cmd, ROOT))
    print(f"{args.tenants} tenants, {args.repeat} runs each, whole process (CPU = user + system; on a busy machine "
          "CPU time is the steadier measure)")
    print(f"{'':>8} {'best wall s':>12} {'median wall s':>14} {'best CPU s':>11} {'median CPU s':>13}")
    for name, runs in (("tenancy", ours), ("NCA", nca)):
        wall, cpu = [r[0] for r in runs], [r[1] for r in runs]
        print(f"{name:>8} {min(wall):>12.3f} {statistics.median(wall):>14.3f} {min(cpu):>11.3f} "
              f"{statistics.median(cpu):>13.3f}")
    for what, i in (("wall", 0), ("CPU", 1)):
        best = min(r[i] for r in nca) / min(r[i] for r in ours)
        median = statistics.median(r[i] for r in nca) / statistics.median(r[i] for r in ours)
        print(f"NCA / tenancy, {what}: {best:.1f}x (best), {median:.1f}x (median); target >= 20")


if __name__ == "__main__":
    main()
