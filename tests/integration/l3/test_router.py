"""Routers with real packets: SNAT out, floating IPs in, nothing else in.

The outside namespace has a route to the tenant subnet through the
router's external address, so that "not reachable directly" is the
router's filter at work, not a missing route.
"""

import netlab
import pytest

from arame.common import runner
from tests.helpers.waiting import wait_until

from .world import Stream, World, router_id, tenant_network

PORT = 8080


@pytest.fixture
def one(world: World):
    """A router (203.0.113.10) for net0 (10.0.0.0/24) with guest g1
    (10.0.0.5, floating 203.0.113.20) and g2 (10.0.0.6, none)."""
    net = tenant_network(1001)
    rid = router_id()
    msg = world.router(
        rid,
        "203.0.113.10",
        [(net, "10.0.0.1/24")],
        {"203.0.113.20": "10.0.0.5"},
    )
    world.apply(msg)
    g1 = world.guest("g1", net, "10.0.0.5/24", "10.0.0.1")
    g2 = world.guest("g2", net, "10.0.0.6/24", "10.0.0.1")
    netlab.run(
        "ip",
        "route",
        "add",
        "10.0.0.0/24",
        "via",
        "203.0.113.10",
        netns=world.outside,
    )
    return world, msg, net, g1, g2


def test_outside_reaches_a_guest_only_through_its_floating_ip(one):
    world, _, _, g1, g2 = one
    world.serve(g1, PORT, "g1")
    world.serve(g2, PORT, "g2")
    out = world.outside
    # in through the floating IP: TCP (the guest sees the outside's own
    # address: DNAT only) and ICMP
    assert world.ask(out, "203.0.113.20", PORT) == "203.0.113.1 g1"
    assert netlab.can_ping(out, "203.0.113.20")
    # not to the private address, though routed to the router
    assert world.ask(out, "10.0.0.5", PORT) is None
    assert not netlab.can_ping(out, "10.0.0.5")
    assert world.ask(out, "10.0.0.6", PORT) is None
    # nor to the router's own address (no port is forwarded there)
    assert world.ask(out, "203.0.113.10", PORT) is None
    assert netlab.can_ping(out, "203.0.113.10")  # the router answers


def test_guests_leave_with_the_router_or_their_floating_address(one):
    world, _, _, g1, g2 = one
    world.serve(world.outside, PORT, "outside")
    assert world.ask(g2, "203.0.113.1", PORT) == "203.0.113.10 outside"
    assert world.ask(g1, "203.0.113.1", PORT) == "203.0.113.20 outside"
    assert netlab.can_ping(g2, "203.0.113.1")


def test_guest_reaches_a_neighbour_through_its_floating_ip(one):
    """Hairpin: in and out of the same router link."""
    world, _, _, g1, g2 = one
    world.serve(g1, PORT, "g1")
    answer = world.ask(g2, "203.0.113.20", PORT)
    assert answer is not None and answer.endswith(" g1")


def test_removing_the_association_cuts_an_open_flow(one, monkeypatch):
    world, msg, _, g1, _ = one
    world.serve(g1, PORT, echo=True)
    stream = Stream(world, world.outside, "203.0.113.20", PORT)
    stream.wait_flowing()
    ran = _record(monkeypatch, world)
    world.apply({**msg, "floating_ips": []})
    # INFRA-NOTES' order: the new ruleset, the flows cut, the /32 gone
    nft = (["nft", "-f"], [INPROC, "nft"])
    cut = (["conntrack", "-D"], [INPROC, "conntrack"])
    steps = [
        "nft" if a[:2] in nft else "cut" if a[:2] in cut else "addr del"
        for a in ran
        if a[:2] in nft + cut
        or a[:3] in (["ip", "addr", "del"], [INPROC, "addr", "del"])
        or "addr del 203.0.113.20/32 dev qg0" in a[-1]
    ]
    if world.driver._inproc is not None:
        # both directions' flows in one dump (conntrack -D: one each)
        assert steps == ["nft", "cut", "addr del"], ran
    else:
        assert steps == ["nft", "cut", "cut", "addr del"], ran
    wait_until(lambda: stream.cut, what="the flow to be cut")
    # and the address no longer answers
    assert world.ask(world.outside, "203.0.113.20", PORT) is None
    assert not netlab.can_ping(world.outside, "203.0.113.20")
    # nor does the guest leave with it any more
    world.serve(world.outside, PORT + 1, "outside")
    assert world.ask(g1, "203.0.113.1", PORT + 1) == "203.0.113.10 outside"


def test_associating_again_lets_it_in(one):
    world, msg, _, g1, _ = one
    world.serve(g1, PORT, "g1")
    world.apply({**msg, "floating_ips": []})
    assert world.ask(world.outside, "203.0.113.20", PORT) is None
    world.apply(msg)
    assert world.ask(world.outside, "203.0.113.20", PORT) == ("203.0.113.1 g1")


CHANGES = ("add", "del", "replace", "set", "-f", "-D", "-batch", "arping")
# What the driver did in its own process (netns_inproc), recorded as
# [INPROC, "nft", text], [INPROC, "addr", verb, cidrs...],
# [INPROC, "conntrack", ips...] or [INPROC, "arp", ips...]: every one of
# them is a change.
INPROC = "in-process"


def _record(monkeypatch, world: World | None = None) -> list[list[str]]:
    """Every command the driver runs from now on (before nsenter), and
    every change it makes in its own process."""
    ran = []
    real = runner.run

    def recording(args, **kw):
        # the input last: `ip -batch -` reads its commands from it
        ran.append([str(a) for a in args] + [str(kw.get("input") or "")])
        return real(args, **kw)

    monkeypatch.setattr(runner, "run", recording)
    inproc = world.driver._inproc if world is not None else None
    if inproc is not None:
        nft, addresses, announce, cut_flows = (
            inproc.nft,
            inproc.addresses,
            inproc.announce,
            inproc.cut_flows,
        )

        def rec_nft(ns, text):
            ran.append([INPROC, "nft", text])
            return nft(ns, text)

        def rec_addresses(ns, verb, dev, cidrs):
            ran.append([INPROC, "addr", verb, *cidrs])
            return addresses(ns, verb, dev, cidrs)

        def rec_announce(ns, dev, ips):
            ran.append([INPROC, "arp", *ips])
            return announce(ns, dev, ips)

        def rec_cut_flows(ns, ips):
            ran.append([INPROC, "conntrack", *ips])
            return cut_flows(ns, ips)

        monkeypatch.setattr(inproc, "cut_flows", rec_cut_flows)
        monkeypatch.setattr(inproc, "nft", rec_nft)
        monkeypatch.setattr(inproc, "addresses", rec_addresses)
        monkeypatch.setattr(inproc, "announce", rec_announce)
    return ran


def test_apply_twice_changes_nothing(one, monkeypatch):
    world, msg, *_ = one
    ran = _record(monkeypatch, world)
    before = _state(world, msg["id"])
    world.apply(msg)
    assert _state(world, msg["id"]) == before
    assert any(a[:2] == ["nft", "-j"] for a in ran)  # it did look
    changes = [
        a
        for a in ran
        if a[0] == INPROC
        or a[0] != "sysctl"
        and any(word in a or word in a[-1].split() for word in CHANGES)
    ]
    assert changes == [], changes


def _state(world: World, rid: str) -> tuple:
    ns = world.driver.namespace(rid)

    def out(*args, netns):
        return netlab.run(*args, netns=netns).stdout

    return (
        out("ip", "-d", "addr", "show", netns=ns),
        out("ip", "route", "show", netns=ns),
        # handles change when the table is loaded again
        out("nft", "-a", "list", "ruleset", netns=ns),
        # (no -d: a bridge's details hold running timers)
        out("ip", "link", "show", netns=world.host),
    )


def test_remove_leaves_nothing(world: World):
    rid = router_id()
    nets = [tenant_network(2001), tenant_network(2002)]
    world.apply(
        world.router(
            rid,
            "203.0.113.10",
            [(nets[0], "10.0.0.1/24"), (nets[1], "10.0.1.1/24")],
        )
    )
    ns = world.driver.namespace(rid)
    assert world.driver.routers() == {rid}
    links = world.host_links()
    assert {n["id"] for n in nets} | {world.external["id"]} <= set(links)
    world.driver.remove(rid)
    assert world.driver.routers() == set()
    assert world.router_namespaces() == set()
    links = world.host_links()
    # only what the lab made is left; the uplink let go by its bridge
    assert set(links) == {"lo", world.uplink}, sorted(links)
    assert "master" not in links[world.uplink]
    assert ns not in netlab.run("ip", "netns", "list").stdout
    world.driver.remove(rid)  # nothing there: success


def test_remove_keeps_a_bridge_guests_still_use(world: World):
    rid = router_id()
    net = tenant_network(2003)
    world.apply(world.router(rid, "203.0.113.10", [(net, "10.0.0.1/24")]))
    world.guest("g1", net, "10.0.0.5/24", "10.0.0.1")
    world.driver.remove(rid)
    links = world.host_links()
    assert net["id"] in links  # the guest's tap is still on it
    assert world.external["id"] not in links


def test_two_accounts_with_the_same_subnet(world: World):
    nets = [tenant_network(3001), tenant_network(3002)]
    ra, rb = router_id(), router_id()
    world.apply(
        world.router(
            ra,
            "203.0.113.10",
            [(nets[0], "10.0.0.1/24")],
            {"203.0.113.20": "10.0.0.5"},
        )
    )
    world.apply(
        world.router(
            rb,
            "203.0.113.11",
            [(nets[1], "10.0.0.1/24")],
            {"203.0.113.21": "10.0.0.6"},
        )
    )
    ga = world.guest("ga", nets[0], "10.0.0.5/24", "10.0.0.1")
    gb = world.guest("gb", nets[1], "10.0.0.6/24", "10.0.0.1")
    world.serve(ga, PORT, "a")
    world.serve(gb, PORT, "b")
    out = world.outside
    assert world.ask(out, "203.0.113.20", PORT) == "203.0.113.1 a"
    assert world.ask(out, "203.0.113.21", PORT) == "203.0.113.1 b"
    world.serve(out, PORT + 1, "outside")
    assert world.ask(ga, "203.0.113.1", PORT + 1) == "203.0.113.20 outside"
    assert world.ask(gb, "203.0.113.1", PORT + 1) == "203.0.113.21 outside"
    # the same subnet, yet apart: neither reaches the other privately
    assert world.ask(ga, "10.0.0.6", PORT) is None
    assert world.ask(gb, "10.0.0.5", PORT) is None
    assert not netlab.can_ping(ga, "10.0.0.6")
    # and removing one leaves the other working
    world.driver.remove(ra)
    assert world.ask(out, "203.0.113.21", PORT) == "203.0.113.1 b"
    assert world.ask(out, "203.0.113.20", PORT) is None


def test_attached_networks_route_to_each_other(world: World):
    nets = [tenant_network(4001), tenant_network(4002)]
    rid = router_id()
    msg = world.router(
        rid,
        None,  # no gateway: they route to each other all the same
        [(nets[0], "10.0.0.1/24"), (nets[1], "10.0.1.1/24")],
    )
    world.apply(msg)
    a = world.guest("a", nets[0], "10.0.0.5/24", "10.0.0.1")
    b = world.guest("b", nets[1], "10.0.1.5/24", "10.0.1.1")
    world.serve(b, PORT, "b")
    world.serve(a, PORT, "a")
    # no NAT between them: each sees the other's own address
    assert world.ask(a, "10.0.1.5", PORT) == "10.0.0.5 b"
    assert world.ask(b, "10.0.0.5", PORT) == "10.0.1.5 a"
    # a gateway added later: both leave through it
    gateway = world.router(rid, "203.0.113.10")["gateway"]
    world.apply({**msg, "gateway": gateway})
    world.serve(world.outside, PORT + 1, "outside")
    assert world.ask(a, "203.0.113.1", PORT + 1) == "203.0.113.10 outside"
    assert world.ask(b, "203.0.113.1", PORT + 1) == "203.0.113.10 outside"
    # detaching one network cuts it off, the other stays
    world.apply(world.router(rid, "203.0.113.10", [(nets[0], "10.0.0.1/24")]))
    assert world.ask(b, "203.0.113.1", PORT + 1) is None
    assert world.ask(a, "203.0.113.1", PORT + 1) == "203.0.113.10 outside"


def test_gateway_address_changes(one):
    world, msg, _, g1, g2 = one
    world.serve(world.outside, PORT, "outside")
    assert world.ask(g2, "203.0.113.1", PORT) == "203.0.113.10 outside"
    gw = {**msg["gateway"], "address": "203.0.113.12/24"}
    world.apply({**msg, "gateway": gw})
    # the new address took over; the default route and the floating IP
    # survived the old address's removal
    assert world.ask(g2, "203.0.113.1", PORT) == "203.0.113.12 outside"
    assert world.ask(g1, "203.0.113.1", PORT) == "203.0.113.20 outside"
    assert not netlab.can_ping(world.outside, "203.0.113.10")


def test_floating_ip_moves_to_another_router(world: World):
    """The gratuitous ARP: the outside's neighbour cache follows the
    address at once, not once it goes stale (tens of seconds)."""
    nets = [tenant_network(5001), tenant_network(5002)]
    ra, rb = router_id(), router_id()
    a_msg = world.router(
        ra,
        "203.0.113.10",
        [(nets[0], "10.0.0.1/24")],
        {"203.0.113.20": "10.0.0.5"},
    )
    b_msg = world.router(rb, "203.0.113.11", [(nets[1], "10.0.1.1/24")])
    world.apply(a_msg)
    world.apply(b_msg)
    ga = world.guest("ga", nets[0], "10.0.0.5/24", "10.0.0.1")
    gb = world.guest("gb", nets[1], "10.0.1.5/24", "10.0.1.1")
    world.serve(ga, PORT, "a")
    world.serve(gb, PORT, "b")
    assert world.ask(world.outside, "203.0.113.20", PORT) == ("203.0.113.1 a")
    world.apply({**a_msg, "floating_ips": []})
    moved = [{"address": "203.0.113.20", "fixed_address": "10.0.1.5"}]
    world.apply({**b_msg, "floating_ips": moved})
    wait_until(
        lambda: (
            world.ask(world.outside, "203.0.113.20", PORT) == "203.0.113.1 b"
        ),
        timeout=5,
        what="the floating IP to answer from its new router",
    )


def test_connection_cap(one):
    world, msg, _, g1, _ = one
    world.serve(g1, PORT, echo=True)
    world.driver.max_connections = 2
    world.apply(msg)
    streams = [
        Stream(world, world.outside, "203.0.113.20", PORT) for _ in range(2)
    ]
    for s in streams:
        s.wait_flowing()
    assert world.ask(world.outside, "203.0.113.20", PORT) is None
    for s in streams:
        s.wait_flowing()  # those within the cap go on


def test_apply_repairs_what_was_changed_by_hand(one):
    """The resync's apply of an unchanged spec checks everything again."""
    world, msg, _, g1, _ = one
    world.serve(g1, PORT, "g1")
    ns = world.driver.namespace(msg["id"])
    netlab.run("ip", "addr", "del", "203.0.113.20/32", "dev", "qg0", netns=ns)
    netlab.run("nft", "delete", "table", "ip", "arame_router", netns=ns)
    netlab.run("ip", "route", "del", "default", netns=ns)
    assert world.ask(world.outside, "203.0.113.20", PORT) is None
    world.apply(msg)
    assert world.ask(world.outside, "203.0.113.20", PORT) == "203.0.113.1 g1"
    world.serve(world.outside, PORT + 1, "outside")
    assert world.ask(g1, "203.0.113.1", PORT + 1) == "203.0.113.20 outside"


def test_routers_made_and_removed_in_parallel(world: World):
    """They share the external bridge: none may take it from another."""
    from concurrent import futures

    msgs = [
        world.router(
            router_id(),
            f"203.0.113.{10 + n}",
            [(tenant_network(6000 + n), "10.0.0.1/24")],
        )
        for n in range(4)
    ]
    with futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(world.apply, msgs))
    assert world.driver.routers() == {m["id"] for m in msgs}
    for n in range(4):
        assert netlab.can_ping(world.outside, f"203.0.113.{10 + n}")
    with futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(world.driver.remove, [m["id"] for m in msgs]))
    assert world.router_namespaces() == set()
    assert set(world.host_links()) == {"lo", world.uplink}
