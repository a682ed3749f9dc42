"""`lab SUB-COMMAND`: the lab (a real API server and NetworkPolicy dataplane); each sub-command lives in a module.

`LAB_COMMANDS` maps a sub-command to the module that provides it. Such a module exposes
`register(subparsers)`, which adds its parser to the `lab` sub-parsers and sets `run` (parsed arguments -> exit code)
as the parser's default, exactly as a top-level command module does. A listed module that does not exist yet is
skipped. Add `up`, `apply`, `probe`, `verify`, `deploy`, `down`, `status` here as their modules land.
"""

from __future__ import annotations

import argparse
import importlib

# Order is the order shown in `lab --help`.
LAB_COMMANDS: dict[str, str] = {
    "build": "tenancy.lab.build",
    "up": "tenancy.lab.up",
    "apply": "tenancy.lab.apply",
    "probe": "tenancy.lab.probe",
    "verify": "tenancy.lab.verify",
    "deploy": "tenancy.lab.deploy",
    "status": "tenancy.lab.status",
    "down": "tenancy.lab.down",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "lab", help="a real API server and NetworkPolicy dataplane on this machine",
        description="Build and run the lab: kube-apiserver, kube-controller-manager, etcd and kube-router's "
                    "NetworkPolicy controller on one Linux machine, inside network namespaces.")
    lab_subparsers = parser.add_subparsers(dest="lab_command", metavar="SUB-COMMAND")
    lab_subparsers.required = True
    for module_name in LAB_COMMANDS.values():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # sub-command not built yet
        module.register(lab_subparsers)
