"""From raw config values (a stack file, or what Pulumi hands the program) to a validated `StackConfig`."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml
from pydantic import ValidationError

from stackconfig.checks import cni_warnings, cross_field_problems, owner_warnings
from stackconfig.errors import ConfigError, problems_from_validation
from stackconfig.models import StackConfig

NAMESPACE = "tenancy"
CLUSTER_KEY = f"{NAMESPACE}:cluster"
TENANTS_KEY = f"{NAMESPACE}:tenants"
KNOWN_KEYS = ("cluster", "tenants")
TOP_LEVEL_KEYS = ("config", "encryptedkey", "encryptionsalt", "environment", "secretsprovider")


@dataclass(frozen=True)
class ParsedConfig:
    config: StackConfig
    warnings: list[str] = field(default_factory=list)


def parse_config(values: Mapping[str, Any]) -> ParsedConfig:
    """Validate the `tenancy:*` values (keys without the namespace: `cluster`, `tenants`).

    Raises ConfigError listing every problem; warnings (unknown CNI, acknowledged non-enforcing CNI, `system:` owners) come back
    alongside the config for the caller to surface in its own way (pulumi.log.warn, stderr).
    """
    problems = []
    for key in values:
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            hint = f"; did you mean '{NAMESPACE}:{close[0]}'?" if close else f"; known keys: {', '.join(f'{NAMESPACE}:{k}' for k in KNOWN_KEYS)}"
            problems.append(f"{NAMESPACE}:{key}: unknown config key{hint}")
    raw = {k: values[k] for k in KNOWN_KEYS if k in values}
    try:
        config = StackConfig.model_validate(raw)
    except ValidationError as exc:
        problems += problems_from_validation(exc, StackConfig, {k: f"{NAMESPACE}:{k}" for k in KNOWN_KEYS})
        raise ConfigError(problems) from None
    problems += cross_field_problems(config)
    if problems:
        raise ConfigError(problems)
    return ParsedConfig(config, [*cni_warnings(config), *owner_warnings(config)])


@dataclass(frozen=True)
class StackFile:
    """A `Pulumi.<stack>.yaml` as written: every config key (namespaced) and which of them are secure."""

    path: Path
    values: dict[str, Any]
    secret_keys: frozenset[str]

    def namespace_values(self, namespace: str = NAMESPACE) -> dict[str, Any]:
        prefix = f"{namespace}:"
        return {k[len(prefix):]: v for k, v in self.values.items() if k.startswith(prefix)}


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping.

    PyYAML keeps the last value silently, so a second `frontend:` or `tenancy:tenants:` would drop the first one
    (and with it a policy) without a word; YAML itself requires keys to be unique.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<:` merges are meant to be overridden by the keys beside them
            key = self.construct_object(key_node, deep=True)
            # Compared as the dict will store them: `1:` and `true:` land on one Python key, so one would be lost.
            try:
                if key in first_line:
                    raise yaml.constructor.ConstructorError(
                        None, None,
                        f"duplicate key {key!r} (first at line {first_line[key] + 1})", key_node.start_mark,
                    )
                first_line[key] = key_node.start_mark.line
            except TypeError:
                continue  # unhashable key: the base constructor reports it
        return super().construct_mapping(node, deep)


def _hint(key: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(known)}"


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def project_dir(start: Path | None = None) -> Path:
    """Where the stack files live: the nearest directory at or above `start` (default: the current directory)
    holding a Pulumi.yaml, as the Pulumi CLI finds its project; `start` itself when there is none."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / "Pulumi.yaml").is_file():
            return directory
    return here


def stack_path(stack: str, config_dir: Path | None = None) -> Path:
    return (config_dir or project_dir()) / f"Pulumi.{stack}.yaml"


def read_stack_file(path: Path) -> StackFile:
    """Parse a stack file. Secure values cannot be decrypted without the Pulumi CLI; they are kept as markers."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{where}: no such stack file"]) from None
    except OSError as exc:
        raise ConfigError([f"{where}: cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{where}: not UTF-8 text (byte {exc.start})"]) from None
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        # An unclosed `{` is reported where the parser gave up, often the next line; the context points at the `{`.
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark:
            problem += f" ({context} at line {context_mark.line + 1}, column {context_mark.column + 1})"
        raise ConfigError([f"{where}: not valid YAML{at}: {problem}"]) from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigError([f"{where}: must be a mapping with a 'config' key, got {type(document).__name__}"])
    # key=str: YAML keys may be numbers or booleans, which do not sort among strings.
    unknown = sorted(set(document) - set(TOP_LEVEL_KEYS), key=str)
    if unknown:
        raise ConfigError([f"{where}: unknown top-level key '{k}'{_hint(str(k), TOP_LEVEL_KEYS)}" for k in unknown])
    config = document.get("config")
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise ConfigError([f"{where}: config: must be a mapping of keys to values"])
    values: dict[str, Any] = {}
    secret_keys = set()
    problems = []
    for key, value in config.items():
        if not isinstance(key, str) or ":" not in key:
            problems.append(f"{where}: config key {key!r} needs a namespace, e.g. '{NAMESPACE}:{key}'")
            continue
        namespace, _, name = key.partition(":")
        # Keys of other providers (kubernetes:context, aws:region) belong here; a misspelt `tenancy` would be
        # skipped by namespace_values() and surface only as a baffling "tenancy:cluster: required".
        if namespace != NAMESPACE and difflib.get_close_matches(namespace, [NAMESPACE], n=1, cutoff=0.8):
            problems.append(f"{where}: config key '{key}' has namespace '{namespace}'; did you mean '{NAMESPACE}:{name}'?")
            continue
        values[key] = value
        if _is_secure(value):
            secret_keys.add(key)
    if problems:
        raise ConfigError(problems)
    return StackFile(path, values, frozenset(secret_keys))
