"""Config problems as one line each, named by their path in the stack file (`tenancy:tenants[1].apps[0].name`)."""

from __future__ import annotations

import difflib
import typing
from typing import Any, Iterable, Sequence

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from kube.problems import InputProblems


class ConfigError(InputProblems):
    """The stack config is invalid. `problems` holds one line per problem, each starting with its config path."""


def format_path(root: str, loc: Iterable[Any]) -> str:
    path = root
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _model_at(model: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    """The model class found by walking `loc` (aliases and list indexes) from `model`, if any."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else None
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None
        current = field.annotation
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """Strip Optional[...] so the walk sees the model inside."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, getattr(__import__("types"), "UnionType", None)) and len(args) == 1:
        return args[0]
    return annotation


def _unknown_key_message(model: type[BaseModel], loc: Sequence[Any]) -> str:
    owner = _model_at(model, loc[:-1])
    key = str(loc[-1])
    if owner is None:
        return "unknown key"
    known = sorted(f.alias or n for n, f in owner.model_fields.items())
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown key; {hint}known keys: {', '.join(known)}"


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(error: ErrorDetails, model: type[BaseModel]) -> str:
    kind = error["type"]
    loc = error["loc"]
    if kind == "extra_forbidden":
        return _unknown_key_message(model, loc)
    if kind == "missing":
        return "required"
    if kind == "value_error":
        return str(error["ctx"]["error"]) if "ctx" in error else error["msg"].removeprefix("Value error, ")
    if kind == "literal_error":
        # pydantic's `expected` already reads "'a' or 'b'" / "'a', 'b' or 'c'"; "one of 'a' or 'b'" did not.
        return f"must be {error['ctx']['expected']}, got {_describe(error['input'])}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, got {_describe(error['input'])}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping of keys to values, got {_describe(error['input'])}"
    if kind == "list_type":
        return f"must be a list, got {_describe(error['input'])}"
    if kind in ("string_type",):
        return f"must be a string, got {_describe(error['input'])}"
    if kind == "too_short":
        return "must not be empty"
    return error["msg"]


def problems_from_validation(exc: ValidationError, model: type[BaseModel], roots: dict[str, str]) -> list[str]:
    """One line per pydantic error; `roots` maps the top-level field name to the config key shown to the user."""
    lines = []
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        root = roots.get(str(loc[0]), str(loc[0])) if loc else "tenancy"
        if len(loc) >= 2 and loc[-1] == "[key]":  # pydantic's marker for a mapping's key, not a field
            lines.append(f"{format_path(root, loc[1:-2])}: key {loc[-2]!r}: {_message(error, model)}")
            continue
        lines.append(f"{format_path(root, loc[1:])}: {_message(error, model)}")
    return lines
