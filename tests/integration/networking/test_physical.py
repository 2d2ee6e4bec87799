"""Flat and VLAN networks on a physical device (a veth between the hosts).

These machines' kernel has no 802.1q support: a VLAN network must fail with
an error naming the feature and leave nothing behind (where the kernel has
it, the sub-interface must be the bridge's port).
"""

import netlab
import pytest

from arame.agents.hva.networking import KernelFeatureMissing, UnderlayError
from arame.common import ids
from tests.helpers.waiting import wait_until

from .topology import link, links, network


@pytest.fixture
def physical(lab, hosts):
    """A second veth between the hosts, with no address: the NIC that flat
    and VLAN networks use."""
    names = {key: lab.name(key + "p") for key in hosts}
    lab.veth(hosts["h1"].ns, names["h1"], hosts["h2"].ns, names["h2"])
    return names


def test_flat_network_takes_the_physical_device(lab, hosts, physical):
    net = network(None, "flat")
    guests = {}
    for n, (key, host) in enumerate(hosts.items(), start=1):
        plumbing = host.plumbing(physical_device=physical[key])
        bridge = plumbing.ensure_network(net)
        assert plumbing.ensure_network(net) == bridge
        assert link(host.ns, physical[key])["master"] == bridge
        tap = plumbing.tap_name(ids.generate("instance"), 0)
        guests[key] = lab.guest(
            host.ns, bridge, f"g{n}", ip=f"10.20.0.{n}/24", port_name=tap
        )
    wait_until(
        lambda: netlab.can_ping(guests["h1"], "10.20.0.2", timeout=1),
        what="ping over the flat network",
    )

    h1 = hosts["h1"]
    plumbing = h1.plumbing(physical_device=physical["h1"])
    netlab.run("ip", "link", "del", "eth0", netns=guests["h1"])
    plumbing.release_network(net["id"])
    assert plumbing.networks() == set()
    # Let go, not deleted: the NIC is the host's.
    nic = link(h1.ns, physical["h1"])
    assert nic is not None and "master" not in nic


def test_flat_refuses_a_device_with_an_address(hosts):
    h1 = hosts["h1"]
    plumbing = h1.plumbing(physical_device=h1.underlay)
    with pytest.raises(UnderlayError, match="IPv4"):
        plumbing.ensure_network(network(None, "flat"))
    assert plumbing.networks() == set()
    assert "master" not in link(h1.ns, h1.underlay)


def test_vlan_network_needs_8021q(hosts, physical):
    h1 = hosts["h1"]
    plumbing = h1.plumbing(physical_device=physical["h1"])
    net = network(100, "vlan")
    try:
        bridge = plumbing.ensure_network(net)
    except KernelFeatureMissing as e:
        assert "802.1q" in e.feature and "802.1q" in str(e)
        assert plumbing.networks() == set()  # no half-made bridge
        assert links(h1.ns, "type", "bridge") == []
        return
    # A kernel with 802.1q: the sub-interface is the bridge's one port.
    port = f"{physical['h1']}.100"
    assert [p["ifname"] for p in links(h1.ns, "master", bridge)] == [port]
    plumbing.release_network(net["id"])
    assert link(h1.ns, port) is None and link(h1.ns, bridge) is None
