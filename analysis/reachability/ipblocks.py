"""ipBlock peers and external addresses.

An ipBlock matches an address inside `cidr` and outside every `except` entry, same IP family only.
This engine applies ipBlocks to external endpoints (`ip:<address>`) only: pod IPs are not part of manifests, and
Kubernetes itself leaves ipBlock-vs-pod-IP behaviour to the CNI ("ipBlock applies to addresses outside the cluster"),
so pod-to-pod traffic never matches an ipBlock peer here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from kube.endpoints import ADDRESS_PREFIX, Address, Endpoint, Network



@dataclass(frozen=True)
class IPBlock:
    cidr: Network
    excepts: tuple[Network, ...] = ()

    def contains(self, addr: Address) -> bool:
        if addr.version != self.cidr.version or addr not in self.cidr:
            return False
        return not any(addr in e for e in self.excepts)

    def excluded_by(self, addr: Address) -> Network | None:
        """The except entry that carves `addr` out, if any (for explanations)."""
        for e in self.excepts:
            if addr.version == e.version and addr in e:
                return e
        return None

    def __str__(self) -> str:
        if self.excepts:
            return f"{self.cidr} except {', '.join(map(str, self.excepts))}"
        return str(self.cidr)


def parse_network(v: object, path: str, problems: list[str]) -> Network | None:
    if not isinstance(v, str):
        problems.append(f"{path}: expected a CIDR string, got {v!r}")
        return None
    if "/" not in v:
        problems.append(f"{path}: invalid CIDR {v!r} (missing prefix length)")
        return None
    try:
        # Kubernetes accepts host bits set ("192.168.1.1/24"), so normalise rather than reject.
        return ipaddress.ip_network(v, strict=False)
    except ValueError:
        problems.append(f"{path}: invalid CIDR {v!r}")
        return None


def parse_ip_block(obj: object, path: str, problems: list[str]) -> IPBlock | None:
    if not isinstance(obj, dict):
        problems.append(f"{path}: expected a mapping, got {type(obj).__name__}")
        return None
    before = len(problems)
    if "cidr" not in obj:
        problems.append(f"{path}.cidr: required")
        return None
    cidr = parse_network(obj.get("cidr"), f"{path}.cidr", problems)
    excepts: list[Network] = []
    raw = obj.get("except") or []
    if not isinstance(raw, list):
        problems.append(f"{path}.except: expected a list, got {type(raw).__name__}")
        raw = []
    for i, e in enumerate(raw):
        net = parse_network(e, f"{path}.except[{i}]", problems)
        if net is None or cidr is None:
            continue
        # versions are compared first, which the per-version stubs of subnet_of cannot see
        if net.version != cidr.version or not net.subnet_of(cidr) or net == cidr:  # type: ignore[arg-type]
            problems.append(f"{path}.except[{i}]: {e!r} must be a strict subset of cidr {cidr}")
            continue
        excepts.append(net)
    if len(problems) > before or cidr is None:
        return None
    return IPBlock(cidr, tuple(excepts))


def parse_address(text: str) -> Address:
    """An external endpoint: "10.1.2.3", "ip:10.1.2.3", "2001:db8::1"; raises ValueError."""
    raw = Endpoint.parse(text).name if text.startswith(ADDRESS_PREFIX) else text
    try:
        return ipaddress.ip_address(raw)
    except ValueError:
        raise ValueError(f"invalid IP address {raw!r}") from None


def endpoint_name(addr: Address) -> str:
    return str(Endpoint.of_address(addr))
