"""The lab's dataplane plumbing on its own (no control plane): namespaces on a bridge, a responder answering every
port, the prober, and that a rule in the node namespace really decides (so a probe can fail)."""

from __future__ import annotations

import os
import random

import pytest

from tenancy.lab import netns, probing, topology
from tenancy.lab.responder import Responder

OUTSIDE = "203.0.113.7"


@pytest.fixture(scope="module")
def plumbing():
    names = topology.Names(f"t{os.getpid() % 100000:05d}")
    for name in netns.list_names(names.prefix):
        netns.delete(name)
    responder = Responder()
    try:
        topology.create_base(names)
        pods = [topology.add_pod(names, i, topology.pod_ip(i)) for i in (1, 2)]
        topology.add_outside_address(names, OUTSIDE)
        for name in (*pods, names.outside):
            responder.add(name)
        yield names, pods
    finally:
        responder.close()
        for name in netns.list_names(names.prefix):
            netns.delete(name)
        assert netns.list_names(names.prefix) == []


def _flows(names, pods, ports):
    flows = []
    for protocol in probing.PROTOCOLS:
        for port in ports:
            flows.append(probing.Flow(pods[0], topology.pod_ip(2), port, protocol))  # pod -> pod (bridged)
            flows.append(probing.Flow(pods[1], OUTSIDE, port, protocol))  # pod -> outside host (routed)
            flows.append(probing.Flow(names.outside, topology.pod_ip(1), port, protocol, src_ip=OUTSIDE))
    return flows


def test_every_port_of_every_protocol_answers(plumbing):
    names, pods = plumbing
    ports = [1, 53, 80, 5432, 65535] + random.Random(11).sample(range(2, 65535), 5)
    flows = _flows(names, pods, ports)
    results = probing.probe_many(flows)
    failed = [(f.protocol, f.port, f.src_netns, f.dst_ip) for f, ok in zip(flows, results) if not ok]
    assert failed == []


@pytest.mark.parametrize("target", ["DROP", "REJECT"])
def test_a_rule_in_the_node_namespace_turns_allow_into_deny(plumbing, target):
    names, pods = plumbing
    flows = _flows(names, pods, [8080, 9999])
    assert all(probing.probe_many(flows))
    netns.run(["iptables", "-I", "FORWARD", "-j", target], netns=names.node)
    try:
        assert not any(probing.probe_many(flows, timeout=0.4))
    finally:
        netns.run(["iptables", "-D", "FORWARD", "-j", target], netns=names.node)
        netns.run(["conntrack", "-F"], netns=names.node, check=False)
    assert all(probing.probe_many(flows))


def test_a_port_specific_rule_denies_only_that_port(plumbing):
    names, pods = plumbing
    rule = ["FORWARD", "-p", "udp", "--dport", "5353", "-j", "DROP"]
    netns.run(["iptables", "-I", *rule], netns=names.node)
    try:
        dst = topology.pod_ip(2)
        verdicts = probing.probe_many([probing.Flow(pods[0], dst, 5353, "UDP"), probing.Flow(pods[0], dst, 5354, "UDP"),
                                       probing.Flow(pods[0], dst, 5353, "TCP")], timeout=0.4)
        assert verdicts == [False, True, True]
    finally:
        netns.run(["iptables", "-D", *rule], netns=names.node)


def test_outside_addresses_refuse_the_pod_range():
    with pytest.raises(ValueError):
        topology.add_outside_address(topology.Names("x"), topology.pod_ip(3))
