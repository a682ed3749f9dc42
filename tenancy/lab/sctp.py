"""Just enough SCTP to tell "reachable" from "not": an INIT and its INIT-ACK, built and parsed by hand.

The machine's kernel has no SCTP sockets, so both sides use raw IPv4 sockets (protocol 132): the probe sends an INIT,
the responder answers every INIT with an INIT-ACK carrying the INIT's initiate tag as verification tag, which is all
conntrack needs to see a valid association start (RFC 9260 sections 3, 3.3.2, 3.3.3; checksum: CRC32c, appendix A).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

IPPROTO_SCTP = 132
CHUNK_INIT = 1
CHUNK_INIT_ACK = 2
PARAM_STATE_COOKIE = 7


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _with_checksum(packet: bytearray) -> bytes:
    packet[8:12] = b"\0\0\0\0"
    packet[8:12] = struct.pack("<I", crc32c(bytes(packet)))
    return bytes(packet)


def checksum_ok(packet: bytes) -> bool:
    if len(packet) < 12:
        return False
    zeroed = packet[:8] + b"\0\0\0\0" + packet[12:]
    return struct.pack("<I", crc32c(zeroed)) == packet[8:12]


def random_tag() -> int:
    while True:
        tag = int.from_bytes(os.urandom(4), "big")
        if tag:
            return tag


def build_init(src_port: int, dst_port: int, initiate_tag: int) -> bytes:
    """An INIT (verification tag 0) offering `initiate_tag`."""
    chunk = struct.pack("!BBHIIHHI", CHUNK_INIT, 0, 20, initiate_tag, 65536, 1, 1, initiate_tag)
    return _with_checksum(bytearray(struct.pack("!HHII", src_port, dst_port, 0, 0) + chunk))


def build_init_ack(src_port: int, dst_port: int, peer_tag: int, own_tag: int) -> bytes:
    """An INIT-ACK to an INIT whose initiate tag was `peer_tag` (a fixed 8-byte state cookie)."""
    cookie = struct.pack("!HH", PARAM_STATE_COOKIE, 12) + b"tenancy!"
    chunk = struct.pack("!BBHIIHHI", CHUNK_INIT_ACK, 0, 20 + len(cookie), own_tag, 65536, 1, 1, own_tag) + cookie
    return _with_checksum(bytearray(struct.pack("!HHII", src_port, dst_port, peer_tag, 0) + chunk))


@dataclass(frozen=True)
class Packet:
    src: str
    dst: str
    src_port: int
    dst_port: int
    vtag: int
    chunk_type: int
    initiate_tag: int  # of an INIT or INIT-ACK; 0 otherwise


def parse(datagram: bytes) -> Packet | None:
    """Parse an IPv4 datagram as read from a raw socket (header included); None if it is not a usable SCTP packet."""
    if len(datagram) < 20 or datagram[0] >> 4 != 4 or datagram[9] != IPPROTO_SCTP:
        return None
    ihl = (datagram[0] & 0x0F) * 4
    sctp = datagram[ihl:]
    if len(sctp) < 16 or not checksum_ok(sctp):
        return None
    src_port, dst_port, vtag = struct.unpack("!HHI", sctp[:8])
    chunk_type = sctp[12]
    tag = struct.unpack("!I", sctp[16:20])[0] if chunk_type in (CHUNK_INIT, CHUNK_INIT_ACK) and len(sctp) >= 20 else 0
    src = ".".join(str(b) for b in datagram[12:16])
    dst = ".".join(str(b) for b in datagram[16:20])
    return Packet(src, dst, src_port, dst_port, vtag, chunk_type, tag)
