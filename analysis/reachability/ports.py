"""Ports: the one place that decides whether a connection's port/protocol matches a rule, and the `PortSet` type.

A NetworkPolicyPort matches a connection when protocols agree (default TCP) and the port is inside the spec:
absent port = every port of that protocol; numeric port with optional endPort = inclusive range; a named port
resolves against the *destination* pod's containerPorts with that name and the same protocol (so a named port
never matches an external destination, which has no containerPorts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping, cast

PROTOCOLS = ("TCP", "UDP", "SCTP")
MIN_PORT, MAX_PORT = 1, 65535

# destination's named ports: (name, protocol) -> port numbers
NamedPorts = Mapping[tuple[str, str], frozenset[int]]

_PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


@dataclass(frozen=True)
class ContainerPort:
    name: str | None
    port: int
    protocol: str = "TCP"


@dataclass(frozen=True)
class PortSpec:
    protocol: str = "TCP"
    port: int | str | None = None
    end_port: int | None = None

    @property
    def is_named(self) -> bool:
        return isinstance(self.port, str)

    def numeric_range(self) -> tuple[int, int] | None:
        """Inclusive range for numeric/absent ports; None for a named port."""
        if self.port is None:
            return (MIN_PORT, MAX_PORT)
        if isinstance(self.port, str):
            return None
        return (self.port, self.end_port if self.end_port is not None else self.port)

    def matches(self, port: int, protocol: str, named: NamedPorts | None) -> bool:
        if protocol != self.protocol:
            return False
        rng = self.numeric_range()
        if rng is not None:
            return rng[0] <= port <= rng[1]
        if not named:
            return False
        # numeric_range() is None only for a named port, which mypy cannot tell from it
        return port in named.get((cast(str, self.port), protocol), ())

    def resolve(self, named: NamedPorts | None) -> "PortSet":
        """The ports this spec admits towards a destination with `named` container ports."""
        rng = self.numeric_range()
        if rng is not None:
            return PortSet({self.protocol: (rng,)})
        # numeric_range() is None only for a named port, which mypy cannot tell from it
        nums = sorted((named or {}).get((cast(str, self.port), self.protocol), ()))
        return PortSet({self.protocol: tuple((n, n) for n in nums)})

    def __str__(self) -> str:
        if self.port is None:
            return f"{self.protocol} (any port)"
        if self.end_port is not None:
            return f"{self.protocol} {self.port}-{self.end_port}"
        return f"{self.protocol} {self.port}"


def any_port_matches(specs: tuple[PortSpec, ...] | None, port: int, protocol: str, named: NamedPorts | None) -> int | None:
    """Index of the first spec admitting the connection, -1 when the rule has no ports (= all), None if none."""
    if specs is None:
        return -1
    for i, spec in enumerate(specs):
        if spec.matches(port, protocol, named):
            return i
    return None


def _merge(ranges: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return tuple((lo, hi) for lo, hi in out)


class PortSet:
    """An immutable set of (protocol, port) pairs stored as merged inclusive ranges per protocol."""

    __slots__ = ("_ranges",)

    def __init__(self, ranges: Mapping[str, Iterable[tuple[int, int]]] | None = None):
        merged = {}
        for proto in PROTOCOLS:
            rs = _merge((ranges or {}).get(proto, ()))
            if rs:
                merged[proto] = rs
        self._ranges: dict[str, tuple[tuple[int, int], ...]] = merged

    @classmethod
    def all(cls) -> "PortSet":
        return cls({p: ((MIN_PORT, MAX_PORT),) for p in PROTOCOLS})

    @classmethod
    def empty(cls) -> "PortSet":
        return cls()

    @classmethod
    def of(cls, protocols: str | Iterable[str], *ports: int) -> "PortSet":
        """Single ports: `PortSet.of("TCP", 80, 443)`, `PortSet.of(("UDP", "TCP"), 53)`."""
        chosen = (protocols,) if isinstance(protocols, str) else tuple(protocols)
        return cls({proto: [(p, p) for p in ports] for proto in chosen})

    @classmethod
    def parse(cls, text: str) -> "PortSet":
        """Inverse of `str()`: "all", "TCP 5432", "TCP 8000-8080, UDP 53", "TCP all"."""
        text = text.strip()
        if text == "all":
            return cls.all()
        if text in ("", "none"):
            return cls()
        ranges: dict[str, list[tuple[int, int]]] = {}
        proto = None
        for part in (p.strip() for p in text.split(",")):
            words = part.split()
            if words[0] in PROTOCOLS:
                proto, words = words[0], words[1:]
            if proto is None or len(words) != 1:
                raise ValueError(f"cannot parse port set {text!r}")
            w = words[0]
            if w == "all":
                lo, hi = MIN_PORT, MAX_PORT
            elif "-" in w:
                lo, hi = (int(x) for x in w.split("-", 1))
            else:
                lo = hi = int(w)
            ranges.setdefault(proto, []).append((lo, hi))
        return cls(ranges)

    def ranges(self, protocol: str) -> tuple[tuple[int, int], ...]:
        return self._ranges.get(protocol, ())

    def __contains__(self, item: tuple[int, str]) -> bool:
        port, proto = item
        return any(lo <= port <= hi for lo, hi in self._ranges.get(proto, ()))

    def __bool__(self) -> bool:
        return bool(self._ranges)

    @property
    def is_all(self) -> bool:
        return all(self._ranges.get(p) == ((MIN_PORT, MAX_PORT),) for p in PROTOCOLS)

    def __or__(self, other: "PortSet") -> "PortSet":
        return PortSet({p: self.ranges(p) + other.ranges(p) for p in PROTOCOLS})

    def __and__(self, other: "PortSet") -> "PortSet":
        out: dict[str, list[tuple[int, int]]] = {}
        for p in PROTOCOLS:
            a, b = self.ranges(p), other.ranges(p)
            i = j = 0
            while i < len(a) and j < len(b):
                lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
                if lo <= hi:
                    out.setdefault(p, []).append((lo, hi))
                if a[i][1] < b[j][1]:
                    i += 1
                else:
                    j += 1
        return PortSet(out)

    def __sub__(self, other: "PortSet") -> "PortSet":
        out: dict[str, list[tuple[int, int]]] = {}
        for p in PROTOCOLS:
            holes = other.ranges(p)
            for lo, hi in self.ranges(p):
                for hlo, hhi in holes:
                    if hhi < lo or hlo > hi:
                        continue
                    if hlo > lo:
                        out.setdefault(p, []).append((lo, hlo - 1))
                    lo = hhi + 1
                    if lo > hi:
                        break
                if lo <= hi:
                    out.setdefault(p, []).append((lo, hi))
        return PortSet(out)

    def __eq__(self, other: object) -> bool:
        # Only another PortSet: a string that happens to parse is text, and equal-to-text made `ports == "TCP 80"`
        # true while `{ports: 1}[("TCP 80")]` missed it (equal objects must hash alike).
        return isinstance(other, PortSet) and self._ranges == other._ranges

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._ranges.items())))

    def __str__(self) -> str:
        if self.is_all:
            return "all"
        if not self._ranges:
            return "none"
        parts = []
        for p in PROTOCOLS:
            rs = self._ranges.get(p)
            if not rs:
                continue
            if rs == ((MIN_PORT, MAX_PORT),):
                parts.append(f"{p} all")
                continue
            parts.append(f"{p} " + ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in rs))
        return ", ".join(parts)

    def __repr__(self) -> str:
        return f"PortSet({str(self)!r})"


def parse_port_number(v: object, path: str, problems: list[str]) -> int | None:
    if isinstance(v, bool) or not isinstance(v, int):
        problems.append(f"{path}: expected an integer port, got {v!r}")
        return None
    if not MIN_PORT <= v <= MAX_PORT:
        problems.append(f"{path}: port {v} out of range {MIN_PORT}-{MAX_PORT}")
        return None
    return v


def parse_protocol(v: object, path: str, problems: list[str]) -> str:
    if v is None:
        return "TCP"
    if v not in PROTOCOLS:
        problems.append(f"{path}: invalid protocol {v!r} (expected one of {', '.join(PROTOCOLS)})")
        return "TCP"
    return v


def is_port_name(s: str) -> bool:
    """IANA_SVC_NAME as Kubernetes validates it: <=15 chars, lowercase alnum and '-', at least one letter."""
    return (
        len(s) <= 15 and bool(_PORT_NAME.match(s)) and "--" not in s and any(c.isalpha() for c in s)
    )


def parse_port_spec(obj: object, path: str, problems: list[str]) -> PortSpec | None:
    if not isinstance(obj, dict):
        problems.append(f"{path}: expected a mapping, got {type(obj).__name__}")
        return None
    before = len(problems)
    protocol = parse_protocol(obj.get("protocol"), f"{path}.protocol", problems)
    port = obj.get("port")
    end_port = obj.get("endPort")
    if isinstance(port, str):
        if not is_port_name(port):
            problems.append(f"{path}.port: invalid named port {port!r} (must be an IANA service name with a letter)")
    elif port is not None:
        port = parse_port_number(port, f"{path}.port", problems)
    if end_port is not None:
        if port is None or isinstance(port, str):
            problems.append(f"{path}.endPort: requires a numeric port")
        else:
            end_port = parse_port_number(end_port, f"{path}.endPort", problems)
            if end_port is not None and end_port < port:
                problems.append(f"{path}.endPort: {end_port} is less than port {port}")
    if len(problems) > before:
        return None
    return PortSpec(protocol, port, end_port)


def parse_protocol_port(text: str) -> tuple[int, str]:
    """Parse a CLI port like "80", "80/tcp", "53/UDP"; raises ValueError with a readable message."""
    num, _, proto = text.partition("/")
    proto = (proto or "TCP").upper()
    if proto not in PROTOCOLS:
        raise ValueError(f"invalid protocol in {text!r} (expected TCP, UDP or SCTP)")
    try:
        port = int(num)
    except ValueError:
        raise ValueError(f"invalid port {text!r} (expected N/PROTO, e.g. 80/TCP)") from None
    if not MIN_PORT <= port <= MAX_PORT:
        raise ValueError(f"port {port} out of range {MIN_PORT}-{MAX_PORT}")
    return port, proto


def port_match_bits(
    specs: tuple[PortSpec, ...] | None, port: int, protocol: str, everyone: int, named_bits: Mapping[str, int]
) -> int:
    """Bitset form of `any_port_matches` over many destinations at once.

    `everyone` is the bitset of all destinations; `named_bits[name]` is the bitset of destinations whose container
    port `name` (for `protocol`) is `port`. Returns the destinations to which `specs` admit (port, protocol).
    """
    if specs is None:
        return everyone
    bits = 0
    for spec in specs:
        if spec.protocol != protocol:
            continue
        rng = spec.numeric_range()
        if rng is not None:
            if rng[0] <= port <= rng[1]:
                return everyone
        else:
            bits |= named_bits.get(spec.port, 0)  # type: ignore[arg-type]  # str when rng is None; no cast() in this loop
    return bits
