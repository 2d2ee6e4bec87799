"""A naming host that runs no hypervisor: nsa makes the network's bridge
with its VXLAN port (VNI = segment id) from [hva_networking], so a guest on
another host, joined by an underlay veth, gets its lease across VXLAN
before any guest of the network is on the naming host; removing the
network takes away the bridge and port nsa made.

    node ns (nsa: bridge nw-..., vx-..., dnsmasq) -- underlay veth --
    host ns (hva's networking: bridge nw-..., vx-...) -- guest ns
"""

import json

import netlab
import pytest
from oslo_config import cfg

from arame.agents.hva.networking import LinuxBridgeNetworking
from arame.agents.nsa import plumbing
from arame.common.conf import hva_networking

MAC = "52:54:00:4e:10:01"
VNI = 4242
UNDERLAY = {"node": "192.0.2.1", "host": "192.0.2.2"}


def link_names(ns: str, *args: str) -> list[str]:
    out = netlab.run("ip", "-j", "link", "show", *args, netns=ns).stdout
    return sorted(link["ifname"] for link in json.loads(out or "[]"))


def conf_for(underlay_dev: str) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    # By name: a registered OptGroup object would share its overrides.
    conf.register_opts(hva_networking.opts, group=hva_networking.group.name)
    conf([], default_config_files=[])
    conf.set_override("underlay_device", underlay_dev, group="hva_networking")
    # Head-end replication: the underlay veth carries no multicast
    # routing, and the list is the lab's way too.
    conf.set_override("vxlan_group", "", group="hva_networking")
    conf.set_override(
        "vxlan_peers", list(UNDERLAY.values()), group="hva_networking"
    )
    return conf


@pytest.fixture
def underlay(node, monkeypatch):
    """A second host joined to the node by an underlay veth; the node's
    nsa plumbing reading [hva_networking] for its end."""
    lab = node.lab
    host = lab.netns("h")
    node_dev, host_dev = lab.name("un"), lab.name("uh")
    lab.veth(node.ns, node_dev, host, host_dev)
    for ns, dev, ip in (
        (node.ns, node_dev, UNDERLAY["node"]),
        (host, host_dev, UNDERLAY["host"]),
    ):
        netlab.run("ip", "addr", "add", f"{ip}/24", "dev", dev, netns=ns)
    node_conf = conf_for(node_dev)
    monkeypatch.setattr(
        plumbing,
        "networking",
        lambda netns: LinuxBridgeNetworking(netns, conf=node_conf),
    )
    return host, LinuxBridgeNetworking(host, conf=conf_for(host_dev))


def test_a_guest_elsewhere_gets_its_lease_from_a_host_without_guests(
    node, underlay
):
    host, hva_networking_there = underlay
    msg = node.network("s", 91, segmentation="vxlan", segment_id=VNI, mtu=1450)
    msg["bridge"] = msg["id"]  # hva's name for a network's bridge
    net_id = msg["id"]
    vx = "vx-" + net_id.split("-", 1)[1]
    node.manager.ensure_network({}, msg)
    node.manager.add_reservation({}, net_id, MAC, "10.91.0.21", "far-1")

    # On the naming host: the bridge, its VXLAN port and nothing else.
    assert link_names(node.ns, "master", net_id) == [vx]
    shown = netlab.run(
        "ip", "-j", "-d", "link", "show", "dev", vx, netns=node.ns
    ).stdout
    assert json.loads(shown)[0]["linkinfo"]["info_data"]["id"] == VNI

    # The hypervisor host plumbs the network as hva does; its guest asks.
    bridge = hva_networking_there.ensure_network(
        {"id": net_id, "segmentation": "vxlan", "segment_id": VNI}
    )
    guest = node.lab.guest(host, bridge, "g", mac=MAC)
    lease = node.udhcpc(guest, tries=10)
    assert lease.ok, lease.output
    assert (lease.values["ip"], lease.values["hostname"]) == (
        "10.91.0.21",
        "far-1",
    )
    assert lease.values["serverid"] == "10.91.0.1"

    # Again: nothing is made twice (a restart's ensure).
    node.driver.stop()
    node.driver.init_host()
    assert link_names(node.ns, "master", net_id) == [vx]

    node.manager.remove_network({}, net_id)
    assert net_id not in link_names(node.ns)
    assert vx not in link_names(node.ns)
