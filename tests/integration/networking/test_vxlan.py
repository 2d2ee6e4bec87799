"""Tenant networks carried between two hosts by VXLAN, with real packets.

Accounts A and B each have a network (VNI 1001, 1002) with a guest on each
host, and both use 10.10.0.0/24 with the same addresses: A's guests must
reach each other and never B's.
"""

import dataclasses
import json
import time

import netlab
import pytest

from arame.common import ids
from tests.helpers.waiting import wait_until

from .topology import GROUP, UNDERLAY, Host, link, links, listen_tcp, network

FLOODING = {
    "multicast": {"vxlan_group": GROUP},
    # Both addresses: a host skips its own, so all hosts share one list.
    "unicast": {"vxlan_peers": list(UNDERLAY.values())},
}


@dataclasses.dataclass
class Tenant:
    network: dict
    guests: dict[str, str]  # host key -> guest namespace
    macs: dict[str, str]


def plug(
    lab, host: Host, bridge: str, suffix: str, ip: str, mac: str, plumbing
) -> str:
    """A guest whose host end is named like the tap libvirt would make."""
    tap = plumbing.tap_name(ids.generate("instance"), 0)
    guest = lab.guest(
        host.ns, bridge, suffix, ip=ip + "/24", mac=mac, port_name=tap
    )
    netlab.run("ip", "link", "set", "eth0", "mtu", "1450", netns=guest)
    return guest


def reaches(src: str, ip: str) -> bool:
    return netlab.can_ping(src, ip, timeout=1)


def neighbour_mac(ns: str, ip: str) -> str | None:
    out = netlab.run(
        "ip", "-j", "neigh", "show", ip, "dev", "eth0", netns=ns
    ).stdout
    found = [n.get("lladdr") for n in json.loads(out or "[]")]
    return found[0] if found else None


@pytest.mark.parametrize("flooding", sorted(FLOODING))
def test_each_account_reaches_only_its_own_network(lab, hosts, flooding):
    plumbing = {k: h.plumbing(**FLOODING[flooding]) for k, h in hosts.items()}
    tenants = {}
    for account, vni in (("a", 1001), ("b", 1002)):
        net = network(vni)
        guests, macs = {}, {}
        for n, key in enumerate(("h1", "h2"), start=1):
            bridge = plumbing[key].ensure_network(net)
            mac = f"02:00:00:0{account}:00:0{n}"
            guests[key] = plug(
                lab,
                hosts[key],
                bridge,
                f"{account}{n}",
                f"10.10.0.{n}",
                mac,
                plumbing[key],
            )
            macs[key] = mac
        tenants[account] = Tenant(net, guests, macs)
    a, b = tenants["a"], tenants["b"]

    for key, host in hosts.items():
        for t in tenants.values():
            bridge = link(host.ns, t.network["id"])
            vx = link(host.ns, "vx-" + t.network["id"][3:])
            assert bridge["mtu"] == 1450 and vx["mtu"] == 1450
            assert vx["master"] == t.network["id"]
            data = vx["linkinfo"]["info_data"]
            assert data["id"] == t.network["segment_id"]
            assert data["local"] == host.ip and data["port"] == 4789
            # The host takes no part in the tenant network.
            assert not netlab.run(
                "ip",
                "-6",
                "addr",
                "show",
                "dev",
                t.network["id"],
                netns=host.ns,
            ).stdout
        assert plumbing[key].networks() == {a.network["id"], b.network["id"]}

    # Same-account guests on different hosts reach each other; the MAC that
    # answers is the right guest's, not the other account's twin address.
    for t in (a, b):
        wait_until(
            lambda t=t: reaches(t.guests["h1"], "10.10.0.2"),
            what="first ping across hosts",
        )
        assert reaches(t.guests["h2"], "10.10.0.1")
        assert neighbour_mac(t.guests["h1"], "10.10.0.2") == t.macs["h2"]
        assert neighbour_mac(t.guests["h2"], "10.10.0.1") == t.macs["h1"]
        # A full 1450-byte packet crosses: the bridge, the VXLAN device and
        # the underlay all have room for it.
        assert (
            netlab.run(
                "busybox",
                "ping",
                "-c",
                "1",
                "-W",
                "2",
                "-s",
                "1422",
                "10.10.0.2",
                netns=t.guests["h1"],
                check=False,
            ).returncode
            == 0
        )

    # TCP: each account listens on its own port at the same address.
    listen_tcp(lab, a.guests["h2"], 7001)
    listen_tcp(lab, b.guests["h2"], 7002)
    assert netlab.can_connect_tcp(a.guests["h1"], "10.10.0.2", 7001)
    assert netlab.can_connect_tcp(b.guests["h1"], "10.10.0.2", 7002)
    assert not netlab.can_connect_tcp(a.guests["h1"], "10.10.0.2", 7002)
    assert not netlab.can_connect_tcp(b.guests["h1"], "10.10.0.2", 7001)

    # With A's remote guest gone, nobody answers A for 10.10.0.2, although
    # B's guest there holds that very address.
    netlab.run("ip", "link", "set", "eth0", "down", netns=a.guests["h2"])
    netlab.run("ip", "neigh", "flush", "dev", "eth0", netns=a.guests["h1"])
    assert not netlab.can_ping(a.guests["h1"], "10.10.0.2", timeout=2)
    assert reaches(b.guests["h1"], "10.10.0.2")

    if flooding == "unicast":
        for key, host in hosts.items():
            other = UNDERLAY["h2" if key == "h1" else "h1"]
            fdb = json.loads(
                netlab.run(
                    "bridge",
                    "-j",
                    "fdb",
                    "show",
                    "dev",
                    "vx-" + a.network["id"][3:],
                    netns=host.ns,
                ).stdout
            )
            assert [
                e["dst"] for e in fdb if e["mac"] == "00:00:00:00:00:00"
            ] == [other]


def test_ensure_is_idempotent_and_release_removes_what_it_made(lab, hosts):
    h1 = hosts["h1"]
    net_plumbing = h1.plumbing()
    net = network(1001)
    vx = "vx-" + net["id"][3:]

    t0 = time.monotonic()
    bridge = net_plumbing.ensure_network(net)
    first = time.monotonic() - t0
    t0 = time.monotonic()
    assert net_plumbing.ensure_network(net) == bridge
    again = time.monotonic() - t0
    print(
        f"\nensure_network: create {first * 1000:.0f} ms, "
        f"again {again * 1000:.0f} ms"
    )
    assert [v["ifname"] for v in links(h1.ns, "type", "vxlan")] == [vx]
    assert [v["ifname"] for v in links(h1.ns, "type", "bridge")] == [bridge]
    assert [p["ifname"] for p in links(h1.ns, "master", bridge)] == [vx]
    assert "UP" in link(h1.ns, bridge)["flags"]

    # A NIC still on the bridge keeps the network.
    tap = net_plumbing.tap_name(ids.generate("instance"), 0)
    guest = lab.guest(h1.ns, bridge, "g1", port_name=tap)
    net_plumbing.release_network(net["id"])
    assert net_plumbing.networks() == {net["id"]}
    assert link(h1.ns, vx)["master"] == bridge

    # An address on the bridge (nsa's dnsmasq serving the network) too.
    netlab.run(
        "ip", "addr", "add", "10.10.0.254/24", "dev", bridge, netns=h1.ns
    )
    netlab.run("ip", "link", "del", "eth0", netns=guest)  # the NIC goes
    net_plumbing.release_network(net["id"])
    assert net_plumbing.networks() == {net["id"]}

    netlab.run("ip", "addr", "flush", "dev", bridge, netns=h1.ns)
    net_plumbing.release_network(net["id"])
    assert link(h1.ns, bridge) is None and link(h1.ns, vx) is None
    assert net_plumbing.networks() == set()
    net_plumbing.release_network(net["id"])  # nothing: fine
    assert link(h1.ns, h1.underlay) is not None  # untouched


def test_ensure_repairs_what_drifted(lab, hosts):
    h1 = hosts["h1"]
    plumbing = h1.plumbing()
    net = network(1001)
    vx = "vx-" + net["id"][3:]
    bridge = plumbing.ensure_network(net)

    netlab.run("ip", "link", "set", "dev", vx, "down", "nomaster", netns=h1.ns)
    netlab.run(
        "ip", "link", "set", "dev", bridge, "mtu", "1500", "down", netns=h1.ns
    )
    plumbing.ensure_network(net)
    assert link(h1.ns, vx)["master"] == bridge
    assert "UP" in link(h1.ns, vx)["flags"]
    assert link(h1.ns, bridge)["mtu"] == 1450
    assert "UP" in link(h1.ns, bridge)["flags"]

    # Same name, wrong VNI (the network was renumbered): remade.
    netlab.run("ip", "link", "del", "dev", vx, netns=h1.ns)
    netlab.run(
        "ip",
        "link",
        "add",
        "name",
        vx,
        "type",
        "vxlan",
        "id",
        "4242",
        "dstport",
        "4789",
        netns=h1.ns,
    )
    plumbing.ensure_network(net)
    assert link(h1.ns, vx)["linkinfo"]["info_data"]["id"] == 1001
    assert link(h1.ns, vx)["master"] == bridge


def test_a_vni_held_by_another_device_is_a_typed_error(lab, hosts):
    from arame.agents.hva.networking import SegmentInUse

    h1 = hosts["h1"]
    plumbing = h1.plumbing()
    netlab.run(
        "ip",
        "link",
        "add",
        "name",
        lab.name("vxold"),
        "type",
        "vxlan",
        "id",
        "1001",
        "dstport",
        "4789",
        netns=h1.ns,
    )
    net = network(1001)
    with pytest.raises(SegmentInUse):
        plumbing.ensure_network(net)
    assert plumbing.networks() == set()  # no half-made bridge left
