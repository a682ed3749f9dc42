"""Output at scale (a script that prints numbers, not a test): what each command produces and how long it takes on
stacks of N tenants.

    venv/bin/python bench/scale.py [--tenants 300,1000] [--timeout 120] [--render]

For each size the stack's objects come from the program's own builders (bench/stacks.py), one file per namespace
as `render` writes them; each command runs in a fresh process, and the script prints its wall time, exit code and
output size: `matrix --port 8080/TCP` as text (beyond 200 workloads: the totals and a hint), `--json` (dense)
and `--json --allowed-only`, `graph` (Mermaid), `graph --namespace` of one tenant, `check`. With --render it
also runs the real render of the generated stack file (slow: about two minutes at 1,000 tenants) and counts the
lines of its summary.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml
from stacks import Dumper, manifests, write_stack

ROOT = Path(__file__).resolve().parent.parent


def write_render_like(n: int, out: Path) -> Path:
    """The n-tenant stack's objects as `render` lays them out: `<namespace>.yaml` each."""
    files: dict[str, list[dict]] = defaultdict(list)
    for obj in manifests(n):
        meta = obj.get("metadata", {})
        files[meta.get("name") if obj["kind"] == "Namespace" else meta.get("namespace") or "_cluster"].append(obj)
    out.mkdir(parents=True, exist_ok=True)
    for name, docs in files.items():
        (out / f"{name}.yaml").write_text(yaml.dump_all(docs, Dumper=Dumper, sort_keys=False), encoding="utf-8")
    return out


def run(label: str, args: list[str], timeout: float) -> None:
    """One command in a fresh process: wall time, CPU time (user + system: steadier on a busy machine), exit code,
    output size."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "tenancy", *args], cwd=ROOT, capture_output=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"  {label:<46} did not finish within {timeout:.0f} s", flush=True)
        return
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = done.stdout.count(b"\n")
    print(f"  {label:<46} {seconds:>7.2f} s wall {cpu:>7.2f} s CPU  exit {done.returncode}  "
          f"{len(done.stdout):>12,} bytes  {lines:>8,} lines", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", default="300,1000", help="comma-separated tenant counts")
    parser.add_argument("--timeout", type=float, default=120, help="seconds before a command is given up")
    parser.add_argument("--render", action="store_true", help="also run the real render and count its summary")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tenancy-scale-") as tmp:
        for n in (int(s) for s in args.tenants.split(",")):
            cluster = write_render_like(n, Path(tmp) / f"t{n}")
            print(f"{n} tenants ({sum(1 for _ in cluster.iterdir())} files)", flush=True)
            d = str(cluster)
            port = ["--port", "8080/TCP"]
            run("matrix --port 8080/TCP (text)", ["matrix", d, *port], args.timeout)
            run("matrix --port 8080/TCP --json", ["matrix", d, *port, "--json"], args.timeout)
            run("matrix --port 8080/TCP --json --allowed-only", ["matrix", d, *port, "--json", "--allowed-only"],
                args.timeout)
            run("matrix --port 8080/TCP --namespace t0001", ["matrix", d, *port, "--namespace", "t0001"],
                args.timeout)
            run("graph (mermaid)", ["graph", d], args.timeout)
            run("graph --namespace t0001", ["graph", d, "--namespace", "t0001"], args.timeout)
            run("check", ["check", d], args.timeout)
            if args.render:
                write_stack(n, Path(tmp))
                run("render (summary on stdout)", ["render", "--stack", f"t{n}", "--config-dir", tmp, "--out",
                                                   str(Path(tmp) / f"render-{n}")], max(args.timeout, 900))


if __name__ == "__main__":
    main()
