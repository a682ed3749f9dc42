"""Endpoints as the engine, the review and the checks name them: one value type instead of string slicing.

    acme/shop-backend     a workload (namespace/name)
    ip:203.0.113.7        an external address
    cidr:203.0.113.0/24   an ipBlock a policy names (the review's flows into and out of ranges)
    ns:acme               a whole namespace (a graph drawn one node per namespace)

`Endpoint.parse(text)` reads any of them and `str(endpoint)` writes the same text back, so the strings on the
command line, in JSON and in reports stay exactly what they are. Parsing is memoised: the analyses ask about the
same few thousand endpoints across millions of flows.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from enum import Enum

# An address or a network of either IP family: the types every room passes addresses and CIDRs as.
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

ADDRESS_PREFIX = "ip:"
BLOCK_PREFIX = "cidr:"
NAMESPACE_PREFIX = "ns:"


class EndpointKind(Enum):
    WORKLOAD = "workload"
    ADDRESS = "address"
    BLOCK = "block"
    NAMESPACE = "namespace"


@dataclass(frozen=True)
class Endpoint:
    kind: EndpointKind
    namespace: str | None  # workloads and namespaces
    name: str  # the workload's name, the address, the block or the namespace, as written

    @classmethod
    @functools.lru_cache(maxsize=1 << 16)
    def parse(cls, text: str) -> Endpoint:
        """Raises ValueError for text that is none of the forms (the message says which forms exist)."""
        if text.startswith(ADDRESS_PREFIX):
            return cls(EndpointKind.ADDRESS, None, text[len(ADDRESS_PREFIX):])
        if text.startswith(BLOCK_PREFIX):
            return cls(EndpointKind.BLOCK, None, text[len(BLOCK_PREFIX):])
        if text.startswith(NAMESPACE_PREFIX) and "/" not in text:
            name = text[len(NAMESPACE_PREFIX):]
            return cls(EndpointKind.NAMESPACE, name, name)
        namespace, slash, name = text.partition("/")
        if not slash or not namespace or not name:
            raise ValueError(f"{text!r} is not an endpoint: expected namespace/workload, ip:<address> or cidr:<block>")
        return cls(EndpointKind.WORKLOAD, namespace, name)

    @classmethod
    def parse_or_none(cls, text: str) -> Endpoint | None:
        """`parse`, with None for text of no form: for callers that word the refusal themselves."""
        try:
            return cls.parse(text)
        except ValueError:
            return None

    @classmethod
    def workload(cls, namespace: str, name: str) -> Endpoint:
        return cls(EndpointKind.WORKLOAD, namespace, name)

    @classmethod
    def namespace_node(cls, namespace: str) -> Endpoint:
        return cls(EndpointKind.NAMESPACE, namespace, namespace)

    @classmethod
    def of_address(cls, address: Address) -> Endpoint:
        return cls(EndpointKind.ADDRESS, None, str(address))

    @property
    def is_workload(self) -> bool:
        return self.kind is EndpointKind.WORKLOAD

    @property
    def is_address(self) -> bool:
        return self.kind is EndpointKind.ADDRESS

    @property
    def is_external(self) -> bool:
        """An address or a block: something outside the cluster, never a pod."""
        return self.kind is EndpointKind.ADDRESS or self.kind is EndpointKind.BLOCK

    @property
    def group(self) -> str:
        """What a listing groups it under: a workload's or namespace node's namespace, else the endpoint itself."""
        return self.namespace if self.namespace is not None else str(self)

    def address(self) -> Address:
        """The address of an `ip:` endpoint (ValueError for other kinds or an unparsable address)."""
        if self.kind is not EndpointKind.ADDRESS:
            raise ValueError(f"{self} is not an address")
        return ipaddress.ip_address(self.name)

    def __str__(self) -> str:
        if self.kind is EndpointKind.ADDRESS:
            return ADDRESS_PREFIX + self.name
        if self.kind is EndpointKind.BLOCK:
            return BLOCK_PREFIX + self.name
        if self.kind is EndpointKind.NAMESPACE:
            return NAMESPACE_PREFIX + self.name
        return f"{self.namespace}/{self.name}"
