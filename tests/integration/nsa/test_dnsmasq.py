"""The dnsmasq driver against the real dnsmasq: guests in namespaces get
exactly their reserved address and name by DHCP, DNS answers A and PTR for
every reservation, and changes are served by the same dnsmasq process."""

import os
import signal

import pytest

from arame.agents.nsa import plumbing
from tests.helpers.waiting import wait_until

from .conftest import dns_query

MACS = [f"52:54:00:4e:00:{n:02x}" for n in range(1, 8)]
DEADLINE = 5.0  # seconds for a change to be served


def bound(node, guest):
    """The lease of a fresh DHCP exchange, or None."""
    lease = node.udhcpc(guest)
    return lease if lease.ok else None


def read(path):
    with open(path) as f:
        return f.read()


def serve(node, key="1", octet=77, **kw):
    msg = node.network(key, octet, **kw)
    node.manager.ensure_network({}, msg)
    return msg


def test_guests_get_their_reservation_by_dhcp_and_dns(node):
    net = serve(node)
    server = "10.77.0.1"
    wanted = {
        MACS[0]: ("10.77.0.11", "web-1"),
        MACS[1]: ("10.77.0.12", "db"),
        MACS[2]: ("10.77.0.250", "outside-range"),
    }
    for mac, (ip, name) in wanted.items():
        node.manager.add_reservation({}, net["id"], mac, ip, name)
    pid = node.pid(net["id"])
    for n, (mac, (ip, name)) in enumerate(wanted.items()):
        guest = node.guest(net["bridge"], f"g{n}", mac)
        lease = node.udhcpc(guest)
        assert lease.ok, lease.output
        v = lease.values
        assert (v["ip"], v["hostname"], v["domain"]) == (
            ip,
            name,
            net["dns_domain"],
        )
        assert (v["router"], v["dns"], v["mtu"], v["subnet"]) == (
            server,
            server,
            "1450",
            "255.255.255.0",
        )
        # Asked from the guest, over the address it was just given.
        fqdn = f"{name}.{net['dns_domain']}"
        assert dns_query(guest, server, fqdn) == ("NOERROR", [ip])
        assert dns_query(guest, server, ip, "PTR") == ("NOERROR", [fqdn + "."])
    # A MAC without a reservation gets nothing (static ranges only).
    stranger = node.guest(net["bridge"], "gx", MACS[6])
    assert not node.udhcpc(stranger, tries=2).ok
    assert (
        dns_query(node.ns, server, f"nobody.{net['dns_domain']}")[0]
        == "NXDOMAIN"
    )
    assert node.pid(net["id"]) == pid


def test_changes_are_served_by_the_same_dnsmasq(node):
    net = serve(node, octet=78)
    nid, dom, server = net["id"], net["dns_domain"], "10.78.0.1"
    node.manager.add_reservation({}, nid, MACS[0], "10.78.0.20", "first")
    pid = node.pid(nid)
    guest = node.guest(net["bridge"], "g", MACS[1])

    # A new reservation: no signal needed, a fresh request gets it.
    node.manager.add_reservation({}, nid, MACS[1], "10.78.0.21", "added")
    lease = wait_until(lambda: bound(node, guest), DEADLINE)
    assert (lease.values["ip"], lease.values["hostname"]) == (
        "10.78.0.21",
        "added",
    )
    wait_until(
        lambda: (
            dns_query(node.ns, server, f"added.{dom}")
            == ("NOERROR", ["10.78.0.21"])
        ),
        DEADLINE,
    )

    # A rename (same MAC, new address and name) replaces the old entry.
    node.manager.add_reservation({}, nid, MACS[1], "10.78.0.31", "renamed")
    wait_until(
        lambda: node.udhcpc(guest).values.get("ip") == "10.78.0.31", DEADLINE
    )
    assert node.udhcpc(guest).values["hostname"] == "renamed"
    wait_until(
        lambda: (
            dns_query(node.ns, server, f"renamed.{dom}")
            == ("NOERROR", ["10.78.0.31"])
        ),
        DEADLINE,
    )
    wait_until(
        lambda: dns_query(node.ns, server, f"added.{dom}")[0] == "NXDOMAIN",
        DEADLINE,
    )
    assert dns_query(node.ns, server, "10.78.0.31", "PTR") == (
        "NOERROR",
        [f"renamed.{dom}."],
    )

    # A removal: the lease is released and nothing answers any more.
    node.manager.remove_reservation({}, nid, MACS[1])
    wait_until(
        lambda: dns_query(node.ns, server, f"renamed.{dom}")[0] == "NXDOMAIN",
        DEADLINE,
    )
    leases = os.path.join(node.driver.state_path, nid, "leases")
    wait_until(lambda: MACS[1] not in read(leases), DEADLINE)
    assert not node.udhcpc(guest, tries=2).ok

    # The freed address goes to another MAC at once.
    node.set_mac(guest, MACS[2])
    node.manager.add_reservation({}, nid, MACS[2], "10.78.0.31", "reused")
    lease = wait_until(lambda: bound(node, guest), DEADLINE)
    assert (lease.values["ip"], lease.values["hostname"]) == (
        "10.78.0.31",
        "reused",
    )
    # The untouched reservation answered all along, from the same process.
    assert dns_query(node.ns, server, f"first.{dom}") == (
        "NOERROR",
        ["10.78.0.20"],
    )
    assert node.pid(nid) == pid
    assert node.driver.network_status(nid)["restarts"] == 0


def test_killed_dnsmasq_is_respawned_and_serves(node):
    net = serve(node, octet=79)
    nid, server = net["id"], "10.79.0.1"
    node.manager.add_reservation({}, nid, MACS[0], "10.79.0.40", "survivor")
    guest = node.guest(net["bridge"], "g", MACS[0])
    first = node.pid(nid)
    os.kill(first, signal.SIGKILL)
    second = wait_until(
        lambda: node.pid(nid) not in (None, first) and node.pid(nid), DEADLINE
    )
    assert node.driver.network_status(nid)["restarts"] == 1
    lease = wait_until(lambda: bound(node, guest), DEADLINE)
    assert lease.values["ip"] == "10.79.0.40"
    assert dns_query(guest, server, f"survivor.{net['dns_domain']}") == (
        "NOERROR",
        ["10.79.0.40"],
    )
    # A change after the respawn is served by the new process, unrestarted.
    node.manager.add_reservation({}, nid, MACS[1], "10.79.0.41", "later")
    wait_until(
        lambda: (
            dns_query(node.ns, server, f"later.{net['dns_domain']}")
            == ("NOERROR", ["10.79.0.41"])
        ),
        DEADLINE,
    )
    assert node.pid(nid) == second


def test_resync_removes_stale_and_adds_missing(node):
    from arame.agents.nsa.resync import Resync

    net = serve(node, octet=80)
    nid, dom, server = net["id"], net["dns_domain"], "10.80.0.1"
    node.manager.add_reservation({}, nid, MACS[0], "10.80.0.10", "stale")
    node.manager.add_reservation({}, nid, MACS[1], "10.80.0.11", "kept")
    pid = node.pid(nid)
    root = os.path.join(node.driver.state_path, nid)
    # An edit behind the agent's back, which resync must also repair.
    os.unlink(os.path.join(root, "hosts.d", "52-54-00-4e-00-02"))
    expected = [
        {"mac": MACS[1], "ip": "10.80.0.11", "hostname": "kept"},
        {"mac": MACS[2], "ip": "10.80.0.12", "hostname": "missing"},
    ]
    out = Resync(node.manager, lambda ids: {nid: (net, expected)}).run_once()
    assert out["synced"] == [nid]
    node.driver.flush()  # do not wait for the reload window

    def files():
        extra = os.path.join(root, "dhcp-hosts.d")
        return read(os.path.join(root, "dhcp-hosts")) + "".join(
            read(os.path.join(extra, n)) for n in os.listdir(extra)
        )

    assert (
        "stale" not in files() and "missing" in files() and "kept" in files()
    )
    wait_until(
        lambda: dns_query(node.ns, server, f"stale.{dom}")[0] == "NXDOMAIN",
        DEADLINE,
    )
    wait_until(
        lambda: (
            dns_query(node.ns, server, f"missing.{dom}")
            == ("NOERROR", ["10.80.0.12"])
        ),
        DEADLINE,
    )
    assert dns_query(node.ns, server, f"kept.{dom}") == (
        "NOERROR",
        ["10.80.0.11"],
    )
    guest = node.guest(net["bridge"], "g", MACS[2])
    assert node.udhcpc(guest).values.get("ip") == "10.80.0.12"
    node.set_mac(guest, MACS[0])
    assert not node.udhcpc(guest, tries=2).ok
    assert node.pid(nid) == pid


def test_two_networks_on_one_node_stay_separate(node):
    a = serve(node, "1", 81)
    b = serve(node, "2", 82)
    node.manager.add_reservation({}, a["id"], MACS[0], "10.81.0.10", "alpha")
    node.manager.add_reservation({}, b["id"], MACS[1], "10.82.0.10", "beta")
    assert node.pid(a["id"]) != node.pid(b["id"])
    ga = node.guest(a["bridge"], "ga", MACS[0])
    gb = node.guest(b["bridge"], "gb", MACS[1])
    assert node.udhcpc(ga).values["ip"] == "10.81.0.10"
    assert node.udhcpc(gb).values["ip"] == "10.82.0.10"
    # b's MAC on a's bridge: a's dnsmasq does not know it, b's cannot hear it.
    node.set_mac(ga, MACS[1])
    assert not node.udhcpc(ga, tries=2).ok
    beta = f"beta.{b['dns_domain']}"
    assert dns_query(node.ns, "10.82.0.1", beta) == ("NOERROR", ["10.82.0.10"])
    assert dns_query(node.ns, "10.81.0.1", beta)[1] == []
    # Removing one network leaves the other serving.
    node.manager.remove_network({}, a["id"])
    assert dns_query(node.ns, "10.82.0.1", beta) == ("NOERROR", ["10.82.0.10"])
    assert list(node.driver.networks()) == [b["id"]]


def test_a_network_whose_subnet_another_bridge_holds_is_refused(node):
    """dnsmasq answers DNS through the routing table: a second bridge with
    the same subnet would send every answer to its guests out of the first
    one (DHCP and guest-to-guest traffic still work). Refused, with the
    first network serving on."""
    a = serve(node, "1", 83)
    node.manager.add_reservation({}, a["id"], MACS[0], "10.83.0.10", "alpha")
    b = node.network("2", 83)
    with pytest.raises(plumbing.SubnetInUse, match=a["bridge"]):
        node.manager.ensure_network({}, b)
    assert list(node.driver.networks()) == [a["id"]]
    alpha = f"alpha.{a['dns_domain']}"
    assert dns_query(node.ns, "10.83.0.1", alpha) == (
        "NOERROR",
        ["10.83.0.10"],
    )


def test_agent_restart_serves_again_and_stop_ends_dnsmasq(node):
    from arame.agents.nsa.drivers.dnsmasq import DnsmasqDriver

    net = serve(node, octet=83)
    nid = net["id"]
    node.manager.add_reservation({}, nid, MACS[0], "10.83.0.10", "again")
    old = node.pid(nid)
    node.driver.stop()
    wait_until(
        lambda: (
            not os.path.exists(f"/proc/{old}")
            or read(f"/proc/{old}/stat").split()[2] == "Z"
        ),
        DEADLINE,
    )
    node.driver = DnsmasqDriver(node.driver.state_path, node.ns)
    node.manager.driver = node.driver
    node.driver.init_host()
    assert node.pid(nid) not in (None, old)
    guest = node.guest(net["bridge"], "g", MACS[0])
    assert node.udhcpc(guest).values["ip"] == "10.83.0.10"
    assert dns_query(guest, "10.83.0.1", f"again.{net['dns_domain']}") == (
        "NOERROR",
        ["10.83.0.10"],
    )


def test_the_dhcp_server_leaves_the_gateway_and_the_guests_stay_plugged(
    node,
):
    # A network served since before routers (dnsmasq on its gateway)
    # gets an address of its own: the bridge, which carries the guests'
    # NICs, stays; only its address moves, and the guests are answered
    # from the new one.
    net = serve(node, octet=79)
    node.manager.add_reservation({}, net["id"], MACS[0], "10.79.0.20", "g")
    guest = node.guest(net["bridge"], "gm", MACS[0])
    assert bound(node, guest) is not None
    before = plumbing.addresses(net["bridge"], node.ns)
    assert before == {"10.79.0.1/24"}

    serve(node, octet=79, dhcp_address="10.79.0.254")
    assert plumbing.addresses(net["bridge"], node.ns) == {"10.79.0.254/24"}
    # The guest's veth is still a port of the same bridge.
    master = plumbing._ip(
        ["-j", "link", "show", "master", net["bridge"]], node.ns
    ).stdout
    assert master.strip() not in ("", "[]")
    lease = wait_until(
        lambda: bound(node, guest), DEADLINE, "a lease from the new address"
    )
    assert lease.values["dns"] == "10.79.0.254"
    assert lease.values["router"] == "10.79.0.1"
    assert dns_query(guest, "10.79.0.254", f"g.{net['dns_domain']}") == (
        "NOERROR",
        ["10.79.0.20"],
    )
