"""Builders for engine tests: the upstream-conformance-style cluster (x, y, z / a, b, c) and truth tables."""

from __future__ import annotations

import itertools

NAMESPACES = ("x", "y", "z")
PODS = ("a", "b", "c")
PROTOS = ("TCP", "UDP", "SCTP")


def ns_obj(name: str, labels: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"ns": name, **(labels or {})}}}


def pod_obj(ns: str, name: str, labels: dict | None = None, ports: list[tuple] | None = None) -> dict:
    """A pod; `ports` are (name, number, protocol); default: 80 and 81 on every protocol, named serve-N-proto."""
    if ports is None:
        ports = [(f"serve-{n}-{p.lower()}", n, p) for n, p in itertools.product((80, 81), PROTOS)]
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels if labels is not None else {"pod": name}},
        "spec": {"containers": [{"name": "c", "image": "agnhost",
                                 "ports": [{"name": pn, "containerPort": n, "protocol": p} for pn, n, p in ports]}]},
    }


def netpol(ns: str, name: str, spec: dict) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def base_objects() -> list[dict]:
    objs = [ns_obj(n) for n in NAMESPACES]
    objs += [pod_obj(n, p) for n in NAMESPACES for p in PODS]
    return objs


ALL_PODS = [f"{n}/{p}" for n in NAMESPACES for p in PODS]


class Reachability:
    """Expected truth table over the 9 conformance pods (plus optional externals); self pairs are ignored."""

    def __init__(self, default: bool, endpoints: list[str] | None = None):
        self.endpoints = list(endpoints or ALL_PODS)
        self.table = {s: {d: default for d in self.endpoints if d != s} for s in self.endpoints}

    @staticmethod
    def _match(pattern: str, name: str) -> bool:
        if pattern == "*" or pattern == name:
            return True
        if "/" in pattern and not name.startswith("ip:"):
            pns, pname = pattern.split("/")
            ns, n = name.split("/")
            return pns in ("*", ns) and pname in ("*", n)
        return False

    def expect(self, src: str, dst: str, value: bool) -> "Reachability":
        for s in self.endpoints:
            for d in self.endpoints:
                if s != d and self._match(src, s) and self._match(dst, d):
                    self.table[s][d] = value
        return self


def render_diff(expected: dict, actual) -> str:
    names = list(expected)
    lines = ["src \\ dst " + " ".join(f"{n:>6}" for n in names)]
    for s in names:
        cells = []
        for d in names:
            if s == d:
                cells.append(f"{'-':>6}")
                continue
            e, a = expected[s][d], actual[s][d]
            cells.append(f"{('.' if a else 'X') + ('' if a == e else '!'):>6}")
        lines.append(f"{s:>10} " + " ".join(cells))
    return "\n".join(lines) + "\n(. allowed, X denied, ! differs from expected)"


def assert_reach(engine, port: int, proto: str, expected: Reachability, externals=()) -> None:
    view = engine.matrix([(port, proto)], externals)[(port, proto)]
    actual = {s: {d: view[s][d] for d in expected.endpoints if d != s} for s in expected.endpoints}
    assert actual == expected.table, f"{port}/{proto}\n" + render_diff(expected.table, actual)
    # The per-pair verdict path must agree with the bitset path on every cell.
    for s in expected.endpoints:
        for d in expected.endpoints:
            if s != d:
                v = engine.verdict(s, d, port, proto)
                assert v.allowed == actual[s][d], (s, d, port, proto, v)
