"""Try flows with real packets: a TCP connect, a UDP request that needs a reply, an SCTP INIT that needs an INIT-ACK.

A flow starts inside a source namespace (a pod's, or the outside host's bound to one of its addresses) and is
allowed when the destination's responder answered within the timeout; anything else (reset, ICMP unreachable from a
REJECT, silence from a DROP) is a deny. Since every port of a destination answers (see responder), a deny can only
come from the path in between, i.e. from the policy dataplane.

`probe_many` runs flows in parallel threads; each thread enters the source namespace only to create its socket.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import struct
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tenancy.lab import netns, sctp

PROTOCOLS = ("TCP", "UDP", "SCTP")
DEFAULT_TIMEOUT = 0.8
DEFAULT_WORKERS = 64


@dataclass(frozen=True)
class Flow:
    src_netns: str
    dst_ip: str
    port: int
    protocol: str  # TCP | UDP | SCTP
    src_ip: str | None = None  # bind to this source address (an outside host's address); None: the namespace's own


def probe(flow: Flow, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """True when the destination answered `flow` within `timeout` seconds."""
    protocol = flow.protocol.upper()
    if protocol == "TCP":
        return _tcp(flow, timeout)
    if protocol == "UDP":
        return _udp(flow, timeout)
    if protocol == "SCTP":
        return _sctp(flow, timeout)
    raise ValueError(f"unknown protocol {flow.protocol!r} (expected one of {', '.join(PROTOCOLS)})")


def probe_many(flows: Sequence[Flow], timeout: float = DEFAULT_TIMEOUT,
               workers: int = DEFAULT_WORKERS) -> list[bool]:
    """Probe every flow (in parallel); results in the order of `flows`."""
    if not flows:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(flows))), thread_name_prefix="probe") as pool:
        return list(pool.map(lambda f: probe(f, timeout), flows))


def _socket(flow: Flow, kind: int, proto: int = 0) -> socket.socket:
    with netns.entered(flow.src_netns):
        sock = socket.socket(socket.AF_INET, kind, proto)
    try:
        if flow.src_ip:
            sock.bind((flow.src_ip, 0))
    except OSError:
        sock.close()
        raise
    return sock


def _tcp(flow: Flow, timeout: float) -> bool:
    sock = _socket(flow, socket.SOCK_STREAM)
    try:
        # Close with a reset: no TIME_WAIT in the source namespace, and conntrack forgets the flow at once.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.settimeout(timeout)
        return sock.connect_ex((flow.dst_ip, flow.port)) == 0
    except OSError:
        return False
    finally:
        sock.close()


def _udp(flow: Flow, timeout: float) -> bool:
    sock = _socket(flow, socket.SOCK_DGRAM)
    try:
        sock.connect((flow.dst_ip, flow.port))
        payload = b"tenancy-lab-probe " + os.urandom(8).hex().encode()
        deadline = time.monotonic() + timeout
        attempts = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if attempts < 3:
                sock.send(payload)
                attempts += 1
            wait = min(remaining, timeout / 3)
            ready, _, _ = select.select([sock], [], [], wait)
            if ready:
                try:
                    if sock.recv(2048) == payload:
                        return True
                except ConnectionRefusedError:
                    return False
                except OSError as exc:
                    if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES):
                        return False
                    raise
    except OSError:
        return False
    finally:
        sock.close()


def _sctp(flow: Flow, timeout: float) -> bool:
    sock = _socket(flow, socket.SOCK_RAW, sctp.IPPROTO_SCTP)
    try:
        tag = sctp.random_tag()
        src_port = 1024 + int.from_bytes(os.urandom(2), "big") % 64000
        init = sctp.build_init(src_port, flow.port, tag)
        deadline = time.monotonic() + timeout
        attempts = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if attempts < 2:
                sock.sendto(init, (flow.dst_ip, 0))
                attempts += 1
            ready, _, _ = select.select([sock], [], [], min(remaining, timeout / 2))
            if not ready:
                continue
            data = sock.recv(65535)
            packet = sctp.parse(data)
            if (packet is not None and packet.chunk_type == sctp.CHUNK_INIT_ACK and packet.vtag == tag
                    and packet.src == flow.dst_ip and packet.src_port == flow.port and packet.dst_port == src_port):
                return True
    except OSError:
        return False
    finally:
        sock.close()
