"""Benchmark: the lab's time to `up`, to `apply` a render, and its probes per second.

    venv/bin/python bench/lab.py [--stack dev] [--ports 8080/TCP,53/UDP,9999/SCTP] [--workdir W]

Needs Linux, root and the binaries of `python -m tenancy lab build`. Renders the stack (offline), starts a lab,
applies the render, then probes every (source workload, destination workload) pair on each port in one batch -
allowed flows answer at once, denied TCP/UDP flows are refused at once by kube-router's REJECT, denied SCTP flows
wait for the timeout - and tears the lab down. Prints one JSON object with the timings.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    from tenancy.lab import apply as lab_apply
    from tenancy.lab import down, probe, up

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--ports", default="8080/TCP,5432/TCP,53/UDP,9999/SCTP")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tenancy-lab-bench-") as tmp:
        render = Path(tmp) / "render"
        subprocess.run([sys.executable, "-m", "tenancy", "render", "--stack", args.stack, "--out", str(render)],
                       cwd=ROOT, check=True, capture_output=True)
        workdir = args.workdir or Path(tmp) / "lab"
        result: dict[str, object] = {"stack": args.stack}
        try:
            started = time.monotonic()
            up.up(workdir, up.binaries())
            result["up_s"] = round(time.monotonic() - started, 1)
            started = time.monotonic()
            summary = lab_apply.apply(workdir, lab_apply.load([str(render)]))
            result["apply_s"] = round(time.monotonic() - started, 1)
            result["apply"] = summary
            lab = probe.Lab(workdir)
            workloads = sorted({f"{p['namespace']}/{p['workloads'][-1]}" for p in lab.pods})
            requests = [{"from": a, "to": b, "port": port} for a in workloads for b in workloads
                        for port in args.ports.split(",")]
            started = time.monotonic()
            answers = lab.probe_batch(requests)
            elapsed = time.monotonic() - started
            verdicts = [a.get("verdict", "error") for a in answers]
            result.update({"workloads": len(workloads), "probes": len(answers), "probe_s": round(elapsed, 2),
                           "probes_per_s": round(len(answers) / elapsed, 1),
                           "allow": verdicts.count("allow"), "deny": verdicts.count("deny"),
                           "errors": verdicts.count("error")})
        finally:
            started = time.monotonic()
            down.teardown(workdir)
            result["down_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
