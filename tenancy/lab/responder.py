"""Answer on every port of a namespace, so that a refusal is never mistaken for (or hides) a policy drop.

Inside each answering namespace (a pod's, or the outside host's) the nat table redirects every new TCP and UDP flow
to one port, RESPONDER_PORT, where one listening TCP socket accepts and closes and one UDP socket echoes each
datagram back (conntrack restores the original port on the reply). SCTP, which this kernel cannot terminate, is
answered by a raw socket that replies to every INIT with an INIT-ACK.

One `Responder` serves any number of namespaces from one thread: the sockets of a namespace are created inside it
(see netns.entered) and then all wait on one selector.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import socket
import struct
import threading
from dataclasses import dataclass, field

from tenancy.lab import netns, sctp

RESPONDER_PORT = 65432
IP_PKTINFO = 8  # <linux/in.h>; the socket module lacks it
log = logging.getLogger("tenancy.lab.responder")


def redirect_rules(port: int = RESPONDER_PORT) -> str:
    """iptables-restore input for the nat table of an answering namespace."""
    return (
        "*nat\n"
        f"-A PREROUTING -p tcp -m comment --comment tenancy-lab-responder -j REDIRECT --to-ports {port}\n"
        f"-A PREROUTING -p udp -m comment --comment tenancy-lab-responder -j REDIRECT --to-ports {port}\n"
        "COMMIT\n"
    )


def install_redirect(name: str, port: int = RESPONDER_PORT) -> None:
    netns.run(["iptables-restore", "--noflush"], netns=name, input_text=redirect_rules(port))


@dataclass
class _Sockets:
    tcp: socket.socket
    udp: socket.socket
    raw: socket.socket
    all: list[socket.socket] = field(default_factory=list)


class Responder:
    """A selector loop answering TCP, UDP and SCTP in every added namespace."""

    def __init__(self, port: int = RESPONDER_PORT) -> None:
        self.port = port
        self._sel = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._spaces: dict[str, _Sockets] = {}
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._pending: list[tuple[str, _Sockets | None]] = []
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="responder", daemon=True)
        self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._thread.start()

    def add(self, name: str) -> None:
        """Start answering in namespace `name` (idempotent)."""
        with self._lock:
            if name in self._spaces:
                return
        with netns.entered(name):
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind(("0.0.0.0", self.port))
            tcp.listen(4096)
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind(("0.0.0.0", self.port))
            raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, sctp.IPPROTO_SCTP)
        socks = _Sockets(tcp, udp, raw, [tcp, udp, raw])
        for sock in socks.all:
            sock.setblocking(False)
        with self._lock:
            self._spaces[name] = socks
            self._pending.append((name, socks))
        os.write(self._wake_w, b"+")

    def remove(self, name: str) -> None:
        with self._lock:
            socks = self._spaces.pop(name, None)
            if socks is not None:
                self._pending.append((name, None))
                self._closing = getattr(self, "_closing", [])
                self._closing.append(socks)
        if socks is not None:
            os.write(self._wake_w, b"-")

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._spaces)

    def close(self) -> None:
        self._stop = True
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        for name in self.names():
            self.remove(name)
        self._apply_pending()

    def _apply_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
            closing: list[_Sockets] = getattr(self, "_closing", [])
            self._closing = []
        for _name, socks in pending:
            if socks is None:
                continue
            if any(s.fileno() < 0 for s in socks.all):
                continue
            self._sel.register(socks.tcp, selectors.EVENT_READ, ("tcp", socks))
            self._sel.register(socks.udp, selectors.EVENT_READ, ("udp", socks))
            self._sel.register(socks.raw, selectors.EVENT_READ, ("sctp", socks))
        for socks in closing:
            for sock in socks.all:
                with contextlib.suppress(KeyError, ValueError):
                    self._sel.unregister(sock)
                sock.close()

    def _loop(self) -> None:
        while not self._stop:
            for key, _mask in self._sel.select(timeout=1.0):
                if key.data is None:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._wake_r, 4096)
                    self._apply_pending()
                    continue
                kind, socks = key.data
                try:
                    if kind == "tcp":
                        self._on_tcp(socks.tcp)
                    elif kind == "udp":
                        self._on_udp(socks.udp)
                    else:
                        self._on_sctp(socks.raw)
                except Exception as exc:  # noqa: BLE001 - one bad packet must not stop the loop
                    log.debug("responder %s: %s", kind, exc)

    @staticmethod
    def _on_tcp(sock: socket.socket) -> None:
        for _ in range(256):
            try:
                conn, _addr = sock.accept()
            except BlockingIOError:
                return
            conn.close()

    @staticmethod
    def _on_udp(sock: socket.socket) -> None:
        for _ in range(256):
            try:
                data, addr = sock.recvfrom(2048)
            except BlockingIOError:
                return
            sock.sendto(data or b"ok", addr)

    @staticmethod
    def _on_sctp(sock: socket.socket) -> None:
        for _ in range(256):
            try:
                data, _addr = sock.recvfrom(65535)
            except BlockingIOError:
                return
            packet = sctp.parse(data)
            if packet is None or packet.chunk_type != sctp.CHUNK_INIT or packet.vtag != 0:
                continue
            reply = sctp.build_init_ack(packet.dst_port, packet.src_port, packet.initiate_tag, sctp.random_tag())
            # The reply leaves from the address the INIT was sent to (IP_PKTINFO), not the route's preferred one.
            pktinfo = struct.pack("=I4s4s", 0, socket.inet_aton(packet.dst), b"\0\0\0\0")
            sock.sendmsg([reply], [(socket.IPPROTO_IP, IP_PKTINFO, pktinfo)], 0, (packet.src, 0))
