"""Quick end-to-end checks of the public API on the conformance cluster."""

from analysis.reachability import Engine, PortSet, load_objects

from .helpers import Reachability, assert_reach, base_objects, netpol


def test_no_policies_everything_reaches_everything():
    e = Engine(load_objects(base_objects()))
    assert len(e.workloads) == 9
    assert_reach(e, 80, "TCP", Reachability(True))


def test_deny_all_ingress_in_x():
    objs = base_objects() + [netpol("x", "deny", {"podSelector": {}})]
    e = Engine(load_objects(objs))
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/*", False))
    assert e.allowed_ports("y/a", "x/a") == PortSet()
    assert e.allowed_ports("x/a", "y/a") == PortSet.all()
