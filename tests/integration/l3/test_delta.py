"""The delta messages (L3 RPC 1.2) through the manager over the real
driver: one floating IP mapped or unmapped on the router's last applied
spec, with the packets that prove it."""

import netlab
import pytest

from arame.agents.l3.manager import L3Manager
from tests.helpers.waiting import wait_until

from .test_router import INPROC, _record
from .world import Stream, World, router_id, tenant_network

PORT = 8080


@pytest.fixture(params=["in-process", "commands"])
def routed(world: World, request):
    """A router (203.0.113.10) for 10.0.0.0/24 with no floating IP,
    applied whole through the manager; guest g1 at 10.0.0.5. Both ways
    of the driver: its own process (netns_inproc), the commands (where
    that cannot work)."""
    assert world.driver._inproc is not None, "no in-process path here"
    if request.param == "commands":
        world.driver._inproc = None
    net = tenant_network(1001)
    rid = router_id()
    msg = world.router(rid, "203.0.113.10", [(net, "10.0.0.1/24")], {})
    mgr = L3Manager(world.driver)
    mgr.apply_router({}, msg)
    g1 = world.guest("g1", net, "10.0.0.5/24", "10.0.0.1")
    netlab.run(
        "ip",
        "route",
        "add",
        "10.0.0.0/24",
        "via",
        "203.0.113.10",
        netns=world.outside,
    )
    return world, mgr, rid, g1, net


def test_association_by_delta_lets_the_first_packet_in(routed, monkeypatch):
    world, mgr, rid, g1, net = routed
    world.serve(g1, PORT, "g1")
    assert world.ask(world.outside, "203.0.113.20", PORT) is None
    ran = _record(monkeypatch, world)
    out = mgr.add_floating_ip(
        {}, rid, {"address": "203.0.113.20", "fixed_address": "10.0.0.5"}
    )
    assert (out["applied"], out["floating_ips"]) == (True, 1)
    assert world.ask(world.outside, "203.0.113.20", PORT) == ("203.0.113.1 g1")
    # the fast path: the /32, the two map elements, the ARP; no listing,
    # no whole ruleset, no link looked at
    loads = [a[-1] for a in ran if a[:2] in (["nft", "-f"], [INPROC, "nft"])]
    assert len(loads) == 1 and "table ip" not in loads[0], loads
    assert "add element" in loads[0]
    assert not any(a[:2] == ["nft", "-j"] for a in ran), ran
    if world.driver._inproc is not None:
        # and not one process started
        assert [a for a in ran if a[0] != INPROC] == [], ran
        assert [a for a in ran if a[0] == INPROC] == [
            [INPROC, "addr", "add", "203.0.113.20/32"],
            [INPROC, "nft", loads[0]],
            [INPROC, "arp", "203.0.113.20"],
        ]
    # a full apply of the same state afterwards loads nothing
    ran.clear()
    msg = world.router(
        rid,
        "203.0.113.10",
        [(net, "10.0.0.1/24")],
        {"203.0.113.20": "10.0.0.5"},
    )
    mgr.apply_router({}, msg)
    assert not any(a[:2] in (["nft", "-f"], [INPROC, "nft"]) for a in ran), ran


def test_removal_by_delta_cuts_an_open_flow(routed):
    world, mgr, rid, g1, _ = routed
    mgr.add_floating_ip(
        {}, rid, {"address": "203.0.113.20", "fixed_address": "10.0.0.5"}
    )
    world.serve(g1, PORT, echo=True)
    stream = Stream(world, world.outside, "203.0.113.20", PORT)
    stream.wait_flowing()
    out = mgr.remove_floating_ip({}, rid, "203.0.113.20")
    assert (out["applied"], out["changed"], out["floating_ips"]) == (
        True,
        True,
        0,
    )
    wait_until(lambda: stream.cut, what="the flow to be cut")
    assert world.ask(world.outside, "203.0.113.20", PORT) is None
    assert not netlab.can_ping(world.outside, "203.0.113.20")
