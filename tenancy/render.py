"""Offline render: a stack file -> the program under mocks -> kubectl-ready YAML per namespace, written atomically."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Callable
from pathlib import Path

import yaml

from stackconfig import ParsedConfig, parse_config, read_stack_file
from stackconfig.load import stack_path
from tenancy import signals
from tenancy.outdir import replace_directory
from tenancy.recording import REDACTED, Recording, config_for_pulumi, record

CLUSTER_FILE = "_cluster.yaml"
# Apply order inside a file: isolation before anything that runs.
KIND_ORDER = ("Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "RoleBinding", "PersistentVolumeClaim",
              "Service", "StatefulSet", "Deployment")


@dataclass
class Render:
    stack: str
    parsed: ParsedConfig
    recording: Recording

    def manifests(self) -> list[dict]:
        """Every Kubernetes object the program registers, as it would be sent to the API server."""
        return [r.inputs for r in self.recording.custom() if r.type.startswith("kubernetes:")]

    def by_file(self) -> dict[str, list[dict]]:
        """`<namespace>.yaml` per namespace, its Namespace object first, so that `kubectl apply -f DIR` succeeds
        in whatever order it takes the files (it sorts them by name, and a tenant named `0day` sorts before
        `_cluster.yaml`); `_cluster.yaml` holds any other cluster-scoped object."""
        files: dict[str, list[dict]] = defaultdict(list)
        for manifest in self.manifests():
            meta = manifest.get("metadata", {})
            namespace = meta.get("name") if manifest.get("kind") == "Namespace" else meta.get("namespace")
            files[f"{namespace}.yaml" if namespace else CLUSTER_FILE].append(manifest)
        files.setdefault(CLUSTER_FILE, [])
        for docs in files.values():
            docs.sort(key=_apply_order)
        return dict(sorted(files.items()))


def _apply_order(manifest: dict) -> tuple:
    kind = manifest.get("kind", "")
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    return rank, manifest.get("metadata", {}).get("name", "")


def render_stack(stack: str, config_dir: Path | None = None,
                 on_resource: Callable[[], None] | None = None) -> Render:
    """Render `config_dir/Pulumi.<stack>.yaml` (default: the project's) with this repository's program.

    Raises ConfigError (with path-named problems) before anything is registered when the config is bad: the stack
    file is read, limited (`kube.yamllimits`) and validated before Pulumi is even imported. `on_resource` is
    called as each resource registers (progress)."""
    stack_file = read_stack_file(stack_path(stack, config_dir))
    # Validate first, outside the Pulumi run, so a bad config registers nothing at all.
    parse_config(stack_file.tenancy_values())
    import program  # the very module `pulumi up` runs

    # Other namespaces' secrets (a kubeconfig, say) are never decrypted here: the program sees a redaction.
    values = {k: (REDACTED if k in stack_file.secret_keys else v) for k, v in stack_file.values.items()}
    parsed: ParsedConfig | None = None

    def run() -> None:
        nonlocal parsed
        parsed = program.load_config()
        program.build(parsed.config)

    recording = record(run, stack, config_for_pulumi(values), sorted(stack_file.secret_keys), on_resource)
    assert parsed is not None
    return Render(stack, parsed, recording)


class _Dumper(yaml.SafeDumper):
    pass


# YAML 1.1 booleans PyYAML's resolver does not know (it quotes yes/no/on/off itself): kubectl's reader would turn
# an unquoted label value `y` into true and refuse the object.
_YAML11_BOOLS = frozenset({"y", "Y", "n", "N"})


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else "'" if value in _YAML11_BOOLS else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_presenter)


_FIRST_KEYS = ("apiVersion", "kind", "metadata", "name", "namespace")


def canonical(value):
    """Stable key order for reviewable diffs: identity first (apiVersion, kind, metadata, name, namespace), then
    alphabetical. Mock inputs arrive in wire order, which is not stable."""
    if isinstance(value, dict):
        first = [k for k in _FIRST_KEYS if k in value]
        rest = sorted(k for k in value if k not in _FIRST_KEYS)
        return {k: canonical(value[k]) for k in (*first, *rest)}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def to_yaml(docs: list[dict]) -> str:
    return yaml.dump_all([canonical(d) for d in docs], Dumper=_Dumper, sort_keys=False, default_flow_style=False, explicit_start=True)


def write_atomically(files: dict[str, list[dict]], out_dir: Path, header: str) -> None:
    """Write the files into a staging directory, then swap it in as `out_dir` (see `tenancy.outdir`): readers see
    the old render or the new one, never half, and nothing but a previous render is ever replaced. Ctrl-C or
    SIGTERM while writing removes the staging directory (tenancy.signals); the swap itself finishes before a signal
    is acted on.

    Raises OutputRefused or OutputFailed (one line each) with `out_dir` untouched."""

    def write(staging: Path) -> None:
        for name, docs in files.items():
            (staging / name).write_text(header + to_yaml(docs), encoding="utf-8")

    replace_directory(out_dir, write, on_abort=signals.cleanup, uninterrupted=signals.deferred)


def by_kind(files: dict[str, list[dict]]) -> list[tuple[str, int, int]]:
    """(kind, objects, files holding some) in apply order: the summary of a render too big to list per file."""
    objects: Counter = Counter()
    holding: Counter = Counter()
    for docs in files.values():
        kinds = Counter(d.get("kind", "?") for d in docs)
        objects.update(kinds)
        holding.update(kinds.keys())
    return [(k, objects[k], holding[k]) for k in sorted(objects, key=lambda k: _apply_order({"kind": k}))]


def summary(files: dict[str, list[dict]]) -> list[tuple[str, str, int]]:
    rows = []
    for name, docs in files.items():
        kinds = Counter(d.get("kind", "?") for d in docs)
        rows.append((name, ", ".join(f"{k} {kinds[k]}" for k in sorted(kinds, key=lambda k: _apply_order({"kind": k}))), len(docs)))
    return rows
