"""From raw config values (a stack file, or what Pulumi hands the program) to a validated `StackConfig`."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml
from pydantic import ValidationError

from kube import yamllimits
from kube.problems import raise_if_any
from stackconfig.checks import cni_warnings, cross_field_problems, exposure_warnings, owner_warnings
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
    raise_if_any(problems, ConfigError)
    return ParsedConfig(config, [*cni_warnings(config), *owner_warnings(config), *exposure_warnings(config)])


@dataclass(frozen=True)
class StackFile:
    """A `Pulumi.<stack>.yaml` as written: every config key (namespaced) and which of them are secure."""

    path: Path
    values: dict[str, Any]
    secret_keys: frozenset[str]
    environments: tuple[str, ...] = ()  # Pulumi ESC environments the stack imports (`environment:`)

    def namespace_values(self, namespace: str = NAMESPACE) -> dict[str, Any]:
        prefix = f"{namespace}:"
        return {k[len(prefix):]: v for k, v in self.values.items() if k.startswith(prefix)}

    def tenancy_values(self) -> dict[str, Any]:
        """The `tenancy:*` values as the program sees them under Pulumi, keys without the namespace.

        A string holding JSON (what `pulumi config set tenancy:tenants '[...]'` writes) is decoded, as the program
        decodes what Pulumi hands it. Raises ConfigError saying exactly why the offline render cannot know a value:
        a secure value, at any depth (only the Pulumi CLI can decrypt it), or keys that only a Pulumi ESC
        environment could supply."""
        problems: list[str] = []
        values: dict[str, Any] = {}
        for key, raw in self.namespace_values().items():
            value = decode_config_value(raw)
            problems += [f"{where}: is a secure value; the offline render cannot decrypt it (keep tenancy config in "
                         "plain text, secrets belong in Kubernetes Secrets)"
                         for where in _secure_paths(value, f"{NAMESPACE}:{key}")]
            values[key] = value
        missing = [f"{NAMESPACE}:{k}" for k in KNOWN_KEYS if k not in values]
        if self.environments and missing:
            problems.append(
                f"{self.path.name}: environment: imports Pulumi ESC environment {', '.join(self.environments)}, "
                f"which the offline render cannot open, and {' and '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not in the stack file itself; set "
                f"{'it' if len(missing) == 1 else 'them'} there (plain `pulumi config set` writes them into "
                "the file) to render offline")
        raise_if_any(problems, ConfigError)
        return values


def decode_config_value(value: Any) -> Any:
    """A config value as the program reads it: Pulumi hands every value over as a string, structured ones as
    JSON, and the program decodes JSON; a string that is not JSON stays a string."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return value


def _secure_paths(value: Any, path: str) -> list[str]:
    """Config paths of the `{secure: ...}` values inside `value`."""
    if _is_secure(value):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _secure_paths(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _secure_paths(v, f"{path}[{i}]")]
    return []


class _UniqueKeyLoader(yamllimits.UniqueKeys, yaml.SafeLoader):
    """The pure-Python safe loader (its messages are the ones the bad-config corpus pins), refusing a key written
    twice: PyYAML would keep the last one silently, dropping the first (and with it a policy)."""


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


# Pulumi's rule for a stack's own name (the last part of org/project/stack); nothing else can name a file of the
# project directory: `../x/Pulumi.dev` would read a stack file outside it.
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]+\Z")


def stack_name_problem(stack: str) -> str | None:
    """Why `stack` is not a stack name, or None."""
    if not STACK_NAME.match(stack) or stack in (".", ".."):
        return (f"invalid stack name {stack!r}: letters, digits, '-', '_' and '.' only (the stack's own name, "
                "which names Pulumi.<stack>.yaml in the project directory)")
    return None


def stack_path(stack: str, config_dir: Path | None = None) -> Path:
    """`Pulumi.<stack>.yaml` of the project; ConfigError when `stack` is not a stack name."""
    problem = stack_name_problem(stack)
    if problem:
        raise ConfigError([problem])
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
        try:
            yamllimits.check_text(text)
        except yamllimits.Refused:
            raise
        except yaml.YAMLError:
            pass  # a syntax error: the loader below reports it in the words the bad-config corpus pins
        document = yaml.load(text, Loader=_UniqueKeyLoader)
    except yamllimits.Refused as exc:
        mark = exc.problem_mark
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError([f"{where}: {exc.problem}{at}"]) from None
    except RecursionError:  # nesting libyaml gave up on before the limit could be checked
        raise ConfigError([f"{where}: {yamllimits.depth_refused().problem}"]) from None
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
    raise_if_any(problems, ConfigError)
    return StackFile(path, values, frozenset(secret_keys), _environments(document.get("environment")))


def _environments(value: Any) -> tuple[str, ...]:
    """`environment: [a, b]`, `environment: a` or `environment: {imports: [a, b]}` -> ("a", "b")."""
    if isinstance(value, dict):
        value = value.get("imports")
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return tuple(str(v) for v in value if v is not None) or ("(unnamed)",)
    return ("(unnamed)",) if value is not None else ()
