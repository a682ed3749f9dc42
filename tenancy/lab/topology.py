"""The lab's network: one node namespace with a bridge, one namespace per pod, one outside namespace.

    pod netns (eth0 10.244.x.y/22) --veth--+
    pod netns ...                   --veth--+-- bridge lab0 (10.244.0.1 = the Node IP) [node netns]
                                                  | routed (ip_forward), default route
                                            out0 169.254.255.1/30 --veth-- eth0 169.254.255.2/30 [outside netns]
                                                                            external addresses on lo, /32 each

Pod-to-pod traffic is bridged and, with bridge-nf-call-iptables=1, traverses the node namespace's iptables FORWARD
chain (physdev matches it as bridged), where kube-router's KUBE-ROUTER-FORWARD jumps sit. Traffic between a pod and
an external address is routed by the node namespace and traverses FORWARD too. Nothing is connected to the host's
namespace: these addresses are reachable only from inside the lab.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from tenancy.lab import netns, responder

POD_CIDR = ipaddress.IPv4Network("10.244.0.0/22")
NODE_IP = "10.244.0.1"
BRIDGE = "lab0"
BRIDGE_MAC = "02:00:0a:f4:00:01"
OUT_NODE_IF = "out0"
OUT_NODE_IP = "169.254.255.1"
OUT_HOST_IP = "169.254.255.2"
SERVICE_CIDR = "10.96.0.0/16"
LB_CIDR = ipaddress.IPv4Network("198.51.100.0/24")  # documentation range: LoadBalancer ingress addresses


@dataclass(frozen=True)
class Names:
    lab: str

    @property
    def node(self) -> str:
        return netns.ns_name(self.lab, "node")

    @property
    def outside(self) -> str:
        return netns.ns_name(self.lab, "out")

    def pod(self, index: int) -> str:
        return netns.ns_name(self.lab, f"p{index}")

    @property
    def prefix(self) -> str:
        return netns.ns_name(self.lab, "")


def create_base(names: Names) -> None:
    """The node namespace (bridge carrying the Node IP, forwarding on) and the outside namespace linked to it."""
    node, out = names.node, names.outside
    netns.add(node)
    netns.sysctl(node, {
        "net.ipv4.ip_forward": "1",
        "net.ipv4.conf.all.rp_filter": "0",
        "net.ipv4.conf.default.rp_filter": "0",
        "net.bridge.bridge-nf-call-iptables": "1",
        "net.netfilter.nf_conntrack_tcp_loose": "0",
    })
    batch = "\n".join([
        f"link add {BRIDGE} type bridge",
        f"link set {BRIDGE} address {BRIDGE_MAC}",
        f"addr add {NODE_IP}/{POD_CIDR.prefixlen} dev {BRIDGE}",
        f"link set {BRIDGE} up",
    ]) + "\n"
    netns.run(["ip", "-n", node, "-b", "-"], input_text=batch)
    netns.add(out)
    netns.sysctl(out, {"net.ipv4.conf.all.rp_filter": "0", "net.ipv4.conf.default.rp_filter": "0"})
    netns.run(["ip", "-n", node, "link", "add", OUT_NODE_IF, "type", "veth", "peer", "name", "eth0", "netns", out])
    netns.run(["ip", "-n", node, "-b", "-"], input_text="\n".join([
        f"addr add {OUT_NODE_IP}/30 dev {OUT_NODE_IF}",
        f"link set {OUT_NODE_IF} up",
        f"route add default via {OUT_HOST_IP} dev {OUT_NODE_IF}",
    ]) + "\n")
    netns.run(["ip", "-n", out, "-b", "-"], input_text="\n".join([
        f"addr add {OUT_HOST_IP}/30 dev eth0",
        "link set eth0 up",
        f"route add {POD_CIDR} via {OUT_NODE_IP} dev eth0",
    ]) + "\n")
    responder.install_redirect(out)


def add_pod(names: Names, index: int, ip: str) -> str:
    """A pod namespace with eth0 = `ip` on the bridge (veth v<index> on the node side); returns its name."""
    pod = names.pod(index)
    netns.add(pod)
    veth = f"v{index}"
    netns.run(["ip", "-n", names.node, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", pod])
    netns.run(["ip", "-n", names.node, "link", "set", veth, "master", BRIDGE, "up"])
    netns.run(["ip", "-n", pod, "-b", "-"], input_text="\n".join([
        f"addr add {ip}/{POD_CIDR.prefixlen} dev eth0",
        "link set eth0 up",
        f"route add default via {NODE_IP} dev eth0",
    ]) + "\n")
    responder.install_redirect(pod)
    return pod


def remove_pod(names: Names, index: int) -> None:
    netns.delete(names.pod(index))  # the veth pair goes with the namespace


def add_outside_address(names: Names, address: str) -> None:
    """Make `address` an outside host (a /32 on the outside namespace's loopback); idempotent."""
    ip = ipaddress.IPv4Address(address)
    if ip in POD_CIDR or address in (OUT_NODE_IP, OUT_HOST_IP) or ip.is_loopback or ip.is_multicast:
        raise ValueError(f"{address} cannot be an outside address of the lab (pod range {POD_CIDR}, link or special)")
    proc = netns.run(["ip", "-n", names.outside, "addr", "add", f"{address}/32", "dev", "lo"], check=False)
    if proc.returncode != 0 and "File exists" not in proc.stderr and "already assigned" not in proc.stderr:
        raise netns.NetnsError(f"cannot add outside address {address}: {proc.stderr.strip()}")


def pod_ip(index: int) -> str:
    """The address of pod number `index` (1-based; .1 is the Node IP)."""
    host = POD_CIDR.network_address + 1 + index
    if host not in POD_CIDR or host == POD_CIDR.broadcast_address:
        raise ValueError(f"pod range {POD_CIDR} exhausted")
    return str(host)
