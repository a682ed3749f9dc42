"""Benchmark: the real Pulumi path on the lab next to the offline render of the same stack.

    sudo venv/bin/python bench/pulumi_up.py [--stacks dev,t50]

For each stack (a stack file of the project, or tN: bench/stacks.py's generated stack of N tenants) on a lab of its
own: the offline render (`tenancy render`, whole process), `pulumi up` creating everything (with the guardrails
pack, as `tenancy lab deploy` runs it), a no-op `pulumi up`, and `pulumi preview`. Needs Linux, root and the
binaries of `tenancy lab build`. Prints one JSON object per stack.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stacks import write_stack  # bench/ is the script directory, first on sys.path when run as a script

ROOT = Path(__file__).resolve().parent.parent


def _timed(run) -> float:
    started = time.monotonic()
    run()
    return time.monotonic() - started


def measure(stack: str, tmp: Path) -> dict[str, object]:
    from tenancy.lab import deploy, down, up
    from tenancy.lab.state import LabState

    config_dir = ROOT
    if stack.startswith("t") and stack[1:].isdigit():
        config_dir = tmp / stack
        config_dir.mkdir()
        write_stack(int(stack[1:]), config_dir)
    out = tmp / f"render-{stack}"
    render = subprocess.run([sys.executable, "-m", "tenancy", "render", "--stack", stack, "--out", str(out),
                             "--config-dir", str(config_dir)], cwd=ROOT, capture_output=True, text=True, check=False)
    if render.returncode != 0:
        raise SystemExit(f"render of {stack} failed: {render.stderr.strip()}")
    result: dict[str, object] = {"stack": stack}
    result["render_s"] = round(_timed(lambda: subprocess.run(
        [sys.executable, "-m", "tenancy", "render", "--stack", stack, "--out", str(out), "--config-dir",
         str(config_dir)], cwd=ROOT, capture_output=True, check=True)), 2)
    workdir = tmp / f"lab-{stack}"
    try:
        result["lab_up_s"] = round(_timed(lambda: up.up(workdir, up.binaries())), 2)
        # No probes: verify tries every pair on every port, which is not what this measures.
        deployed = deploy.deploy(workdir, stack, config_dir, progress=lambda line: print(line, file=sys.stderr),
                                 probe=False)
        result["resources"] = sum(1 for f in out.glob("*.yaml") for line in f.read_text().splitlines()
                                  if line == "---")
        result["pulumi_up_create_s"] = round(deployed.seconds, 2)
        result["live_differences"] = len(deployed.differences)
        workspace = deploy.Workspace(LabState.load(workdir), stack, config_dir)
        workspace.select()
        for name, args in (("pulumi_up_noop_s", ("up", "--yes", "--non-interactive", "--stack", stack)),
                           ("pulumi_preview_s", ("preview", "--non-interactive", "--stack", stack))):
            started = time.monotonic()
            done = workspace.pulumi(*args)
            if done.returncode != 0:
                raise SystemExit(f"pulumi {args[0]} of {stack} failed: {done.stdout[-2000:]}")
            result[name] = round(time.monotonic() - started, 2)
    finally:
        down.teardown(workdir)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stacks", default="dev,t50", help="comma-separated stacks (tN: N generated tenants)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tenancy-pulumi-bench-") as tmp:
        for stack in args.stacks.split(","):
            print(json.dumps(measure(stack, Path(tmp))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
