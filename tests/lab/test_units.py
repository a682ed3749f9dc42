"""Pieces of the lab that need no namespace: SCTP packets, port syntax, endpoint resolution, manifest ordering."""

from __future__ import annotations

import struct

import pytest

from tenancy.lab import apply as lab_apply
from tenancy.lab import probe, sctp
from tenancy.lab.state import LabError


def test_crc32c_matches_the_standard_check_value():
    assert sctp.crc32c(b"123456789") == 0xE3069283


def _ip(payload: bytes, src: str = "10.244.0.2", dst: str = "10.244.0.3") -> bytes:
    def quad(a: str) -> bytes:
        return bytes(int(x) for x in a.split("."))

    return struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(payload), 0, 0, 64, sctp.IPPROTO_SCTP, 0) \
        + quad(src) + quad(dst) + payload


def test_init_and_init_ack_round_trip():
    init = sctp.parse(_ip(sctp.build_init(40000, 9999, 0xDEADBEEF)))
    assert init is not None
    assert (init.src_port, init.dst_port, init.vtag, init.chunk_type, init.initiate_tag) == \
        (40000, 9999, 0, sctp.CHUNK_INIT, 0xDEADBEEF)
    ack = sctp.parse(_ip(sctp.build_init_ack(9999, 40000, 0xDEADBEEF, 7), src="10.244.0.3", dst="10.244.0.2"))
    assert ack is not None
    assert (ack.src, ack.vtag, ack.chunk_type, ack.initiate_tag) == ("10.244.0.3", 0xDEADBEEF, sctp.CHUNK_INIT_ACK, 7)


def test_a_corrupted_packet_is_ignored():
    packet = bytearray(sctp.build_init(1, 2, 3))
    packet[-1] ^= 0xFF
    assert sctp.parse(_ip(bytes(packet))) is None


@pytest.mark.parametrize(("text", "expected"), [("80/TCP", (80, "TCP")), ("53/udp", (53, "UDP")),
                                                ("9999/SCTP", (9999, "SCTP")), ("8080", (8080, "TCP"))])
def test_port_syntax(text, expected):
    assert probe.parse_port(text) == expected


@pytest.mark.parametrize("text", ["0/TCP", "65536/TCP", "http/TCP", "80/ICMP"])
def test_bad_ports_are_errors(text):
    with pytest.raises(LabError):
        probe.parse_port(text)


def test_endpoints_resolve_to_a_ready_pod_of_any_owning_workload():
    lab = probe.Lab.__new__(probe.Lab)
    lab.pods = [
        {"namespace": "a", "name": "web-5d-x1", "uid": "1", "ip": "10.244.0.2", "netns": "n1", "ready": True,
         "workloads": ["web-5d-x1", "web-5d", "web"]},
        {"namespace": "a", "name": "web-5d-x2", "uid": "2", "ip": "10.244.0.3", "netns": "n2", "ready": True,
         "workloads": ["web-5d-x2", "web-5d", "web"]},
    ]
    assert [p["name"] for p in lab.pods_of("a/web")] == ["web-5d-x1", "web-5d-x2"]
    assert [p["name"] for p in lab.pods_of("a/web-5d-x2")] == ["web-5d-x2"]
    assert lab.pods_of("b/web") == []
    assert lab.resolve("a/web").ip == "10.244.0.2"
    assert lab.resolve("a/web", avoid_uid="1").ip == "10.244.0.3"  # a workload's other pod as destination
    with pytest.raises(LabError, match="namespace/workload"):
        lab.resolve("web")


def test_manifests_are_read_from_files_directories_and_lists(tmp_path):
    (tmp_path / "a.yaml").write_text("kind: Namespace\nmetadata: {name: x}\n---\n"
                                     "kind: List\nitems:\n- {kind: Pod, metadata: {name: p, namespace: x}}\n")
    (tmp_path / "b.json").write_text('{"kind": "Service", "metadata": {"name": "s", "namespace": "x"}}')
    kinds = [d["kind"] for d in lab_apply.load([str(tmp_path)])]
    assert kinds == ["Namespace", "Pod", "Service"]
