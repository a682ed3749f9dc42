"""Label selectors: the one place that decides whether labels match a selector.

Two evaluation paths share the same `Requirement` objects so they cannot drift apart:
`Selector.matches(labels)` answers for one label set (used by verdicts and explanations), and
`Selector.select(index)` answers for every element of a `LabelIndex` at once as a bitset (used by the matrix).
Semantics follow metav1.LabelSelector: requirements are ANDed, an empty selector selects everything, `NotIn` and
`DoesNotExist` also match objects that lack the key. "Absent" selectors (null) are not represented here; callers
decide what a missing selector means in their context (e.g. a peer without namespaceSelector = own namespace).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from kube import names

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str
    values: frozenset[str] = frozenset()
    # matchLabels entries are kept distinguishable from `In` with one value only for nicer explanations.
    from_match_labels: bool = False

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op == "In":
            return labels.get(self.key) in self.values
        if op == "NotIn":
            return labels.get(self.key) not in self.values
        if op == "Exists":
            return self.key in labels
        return self.key not in labels  # DoesNotExist

    def select(self, index: "LabelIndex") -> int:
        op = self.operator
        if op == "In":
            bits = 0
            for v in self.values:
                bits |= index.by_pair.get((self.key, v), 0)
            return bits
        if op == "NotIn":
            bits = 0
            for v in self.values:
                bits |= index.by_pair.get((self.key, v), 0)
            return index.all & ~bits
        if op == "Exists":
            return index.by_key.get(self.key, 0)
        return index.all & ~index.by_key.get(self.key, 0)

    def __str__(self) -> str:
        vals = ", ".join(sorted(self.values))
        if self.operator == "In":
            if len(self.values) == 1:
                return f"{self.key}={next(iter(self.values))}"
            return f"{self.key} in ({vals})"
        if self.operator == "NotIn":
            if len(self.values) == 1:
                return f"{self.key}!={next(iter(self.values))}"
            return f"{self.key} notin ({vals})"
        if self.operator == "Exists":
            return self.key
        return f"!{self.key}"

    def describe_miss(self, labels: Mapping[str, str]) -> str:
        """Why `labels` fail this requirement, phrased for a human."""
        have = labels.get(self.key)
        if have is None:
            return f"has no label {self.key}"
        return f"has {self.key}={have}"


@dataclass(frozen=True)
class Selector:
    requirements: tuple[Requirement, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.requirements

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    def requirements_on(self, key: str) -> bool:
        return any(r.key == key for r in self.requirements)

    def misses(self, labels: Mapping[str, str]) -> list[Requirement]:
        return [r for r in self.requirements if not r.matches(labels)]

    def select(self, index: "LabelIndex") -> int:
        bits = index.all
        for r in self.requirements:
            bits &= r.select(index)
            if not bits:
                break
        return bits

    def __str__(self) -> str:
        if not self.requirements:
            return "{}"
        return ", ".join(str(r) for r in self.requirements)


EVERYTHING = Selector()


class LabelIndex:
    """Inverted index of label sets: (key, value) -> bitset of element positions, key -> bitset."""

    __slots__ = ("by_pair", "by_key", "all", "_cache")

    def __init__(self, label_sets: Iterable[Mapping[str, str]]):
        by_pair: dict[tuple[str, str], int] = {}
        by_key: dict[str, int] = {}
        n = 0
        for i, labels in enumerate(label_sets):
            bit = 1 << i
            for k, v in labels.items():
                by_pair[(k, v)] = by_pair.get((k, v), 0) | bit
                by_key[k] = by_key.get(k, 0) | bit
            n = i + 1
        self.by_pair = by_pair
        self.by_key = by_key
        self.all = (1 << n) - 1
        self._cache: dict[Selector, int] = {}

    def select(self, selector: Selector) -> int:
        """Bitset of elements matched by `selector`; memoised because many policies share selectors."""
        bits = self._cache.get(selector)
        if bits is None:
            bits = selector.select(self)
            self._cache[selector] = bits
        return bits


def label_value(v: object) -> str:
    """A label value as Kubernetes stores it: a string (null decodes to ""). Other scalars are refused by
    `parse_labels` first (the API server cannot decode `version: 1` into a string); this spelling is only used
    to name them in messages."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""
    return str(v)


def _not_a_string(value: object, path: str, problems: list[str]) -> bool:
    """Label values and selector values are strings in the API: `version: 1` or `enabled: true` unquoted is a
    number or a boolean, which the API server (and kubectl) refuse to decode; say so instead of guessing."""
    if value is None or isinstance(value, str):
        return False
    problems.append(f"{path}: label value {label_value(value)} must be a string; YAML reads it unquoted as a "
                    f"{'boolean' if isinstance(value, bool) else 'number' if isinstance(value, (int, float)) else type(value).__name__}, "
                    f"which the API server refuses (quote it: '{label_value(value)}')")
    return True


# Label keys and values repeat across thousands of objects; remember the valid ones instead of re-matching them.
_VALID_KEYS: set[str] = set()
_VALID_VALUES: set[str] = set()


def check_label_key(key: str, path: str, problems: list[str]) -> None:
    if key in _VALID_KEYS:
        return
    why = names.qualified_name(key)
    if why:
        problems.append(f"{path}: invalid label key {key!r}: {why}")
    else:
        _VALID_KEYS.add(key)


def check_label_value(value: str, path: str, problems: list[str]) -> None:
    if value in _VALID_VALUES:
        return
    why = names.label_value(value)
    if why:
        problems.append(f"{path}: invalid label value {value!r}: {why}")
    else:
        _VALID_VALUES.add(value)


def parse_labels(obj: object, path: str, problems: list[str]) -> dict[str, str]:
    """Labels as Kubernetes stores them; keys and values the API server would refuse are problems."""
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        problems.append(f"{path}: expected a mapping of labels, got {type(obj).__name__}")
        return {}
    labels = {}
    for key, value in obj.items():
        k = str(key)
        if type(value) is str and k in _VALID_KEYS and value in _VALID_VALUES:
            labels[k] = value  # the common case: no path is built for messages that will not be written
            continue
        if _not_a_string(value, f"{path}[{k!r}]", problems):
            continue
        labels[k] = label_value(value)
        check_label_key(k, path, problems)
        check_label_value(labels[k], f"{path}[{k!r}]", problems)
    return labels


def parse_selector(obj: object, path: str, problems: list[str]) -> Selector:
    """Parse a metav1.LabelSelector, appending "field: message" problems; invalid parts are dropped."""
    if obj is None:
        return EVERYTHING
    if not isinstance(obj, dict):
        problems.append(f"{path}: expected a label selector mapping, got {type(obj).__name__}")
        return EVERYTHING
    reqs: list[Requirement] = []
    match_labels = obj.get("matchLabels")
    if match_labels is not None:
        for k, v in parse_labels(match_labels, f"{path}.matchLabels", problems).items():
            reqs.append(Requirement(k, "In", frozenset([v]), from_match_labels=True))
    exprs = obj.get("matchExpressions")
    if exprs is not None and not isinstance(exprs, list):
        problems.append(f"{path}.matchExpressions: expected a list, got {type(exprs).__name__}")
        exprs = None
    for i, expr in enumerate(exprs or ()):
        epath = f"{path}.matchExpressions[{i}]"
        if not isinstance(expr, dict):
            problems.append(f"{epath}: expected a mapping, got {type(expr).__name__}")
            continue
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values")
        if not key or not isinstance(key, str):
            problems.append(f"{epath}.key: required")
            continue
        if op not in OPERATORS:
            problems.append(f"{epath}.operator: invalid operator {op!r} (expected one of {', '.join(OPERATORS)})")
            continue
        if values is not None and not isinstance(values, list):
            problems.append(f"{epath}.values: expected a list, got {type(values).__name__}")
            continue
        check_label_key(key, f"{epath}.key", problems)
        if any([_not_a_string(x, f"{epath}.values[{j}]", problems) for j, x in enumerate(values or ())]):
            continue
        values = [label_value(x) for x in values or ()]
        for j, value in enumerate(values):
            check_label_value(value, f"{epath}.values[{j}]", problems)
        if op in ("In", "NotIn") and not values:
            problems.append(f"{epath}.values: must be non-empty for operator {op}")
            continue
        if op in ("Exists", "DoesNotExist") and values:
            problems.append(f"{epath}.values: must be empty for operator {op}")
            continue
        reqs.append(Requirement(key, op, frozenset(values)))
    # Order-independent identity lets the index memoise equal selectors written differently.
    if len(reqs) > 1:
        reqs.sort(key=lambda r: (r.key, r.operator, sorted(r.values)))
    return Selector(tuple(reqs))

