"""The agent killed in the middle of an association (SIGKILL, a process of
its own running the in-process fast path), then started again: its first
resync makes the router what the controller says, whichever half of the
association the kernel holds.

- "missing": killed after the /32 went in, before the map elements; the
  records say the floating IP is associated: the resync maps it.
- "stale": killed after the map elements went in, before the ARP; the
  records say it is not (disassociated while the agent was down): the
  resync removes its mapping and its /32.
"""

import json
import os
import signal
import subprocess
import sys

import netlab
import pytest

from arame.agents.l3.drivers.netns import NetnsRouterDriver
from arame.agents.l3.manager import L3Manager
from arame.agents.l3.resync import Resync

from .world import World, _networking_conf, router_id, tenant_network

PORT = 8080
REPO = os.path.dirname(
    os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    )
)

# The agent: the driver as it was before the association (its last
# applied spec in memory), then the association, SIGKILLed at `step`.
AGENT = """
import json, os, signal, sys
from arame.agents.l3.drivers import base, netns
from tests.integration.l3.world import _networking_conf
host, prefix, uplink, step, before, after = sys.argv[1:]
d = netns.NetnsRouterDriver(
    host, prefix, {"public": uplink}, 4096, conf=_networking_conf()
)
assert d._inproc is not None, "no in-process path here"
d._applied[json.loads(before)["id"]] = base.parse_router(json.loads(before))

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

if step == "before-map":
    d._load_map_changes = killed
else:
    d._announce = killed
d.apply(base.parse_router(json.loads(after)))
print("not killed", flush=True)
"""


@pytest.mark.parametrize("half", ["missing", "stale"])
def test_resync_after_a_kill_mid_association(world: World, half):
    net = tenant_network(1001)
    rid = router_id()
    without = world.router(rid, "203.0.113.10", [(net, "10.0.0.1/24")], {})
    with_fip = world.router(
        rid,
        "203.0.113.10",
        [(net, "10.0.0.1/24")],
        {"203.0.113.20": "10.0.0.5"},
    )
    world.apply(without)
    g1 = world.guest("g1", net, "10.0.0.5/24", "10.0.0.1")
    world.serve(g1, PORT, "g1")
    ns = world.driver.namespace(rid)

    step = "before-map" if half == "missing" else "before-arp"
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            AGENT,
            world.host,
            world.driver.prefix,
            world.uplink,
            step,
            json.dumps(without),
            json.dumps(with_fip),
        ],
        cwd=REPO,
        # world (imported by the agent for its configuration) needs netlab
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                [REPO, os.path.dirname(netlab.__file__)]
            ),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == -signal.SIGKILL, res.stderr
    # what the kill left: the /32; the mapping only in "stale"
    assert "203.0.113.20/32" in _addresses(ns)
    assert ("203.0.113.20" in _mapped(ns)) == (half == "stale")

    # Started again: a driver with nothing in memory; the controller's
    # answer is the records.
    world.driver = NetnsRouterDriver(
        world.host,
        world.driver.prefix,
        {"public": world.uplink},
        4096,
        conf=_networking_conf(),
    )
    expected = with_fip if half == "missing" else without
    out = Resync(L3Manager(world.driver), lambda: {rid: expected}).run_once()
    assert out["applied"] == [rid] and not out["failed"], out

    if half == "missing":
        assert "203.0.113.20" in _mapped(ns)
        assert world.ask(world.outside, "203.0.113.20", PORT) == (
            "203.0.113.1 g1"
        )
    else:
        assert "203.0.113.20" not in _mapped(ns)
        assert "203.0.113.20/32" not in _addresses(ns)
        assert world.ask(world.outside, "203.0.113.20", PORT) is None
        assert not netlab.can_ping(world.outside, "203.0.113.20")


def _addresses(ns: str) -> set[str]:
    links = json.loads(netlab.run("ip", "-j", "addr", "show", netns=ns).stdout)
    return {
        f"{a['local']}/{a['prefixlen']}"
        for link in links
        for a in link.get("addr_info", [])
        if a.get("family") == "inet"
    }


def _mapped(ns: str) -> set[str]:
    out = netlab.run(
        "nft", "-j", "list", "map", "ip", "arame_router", "fip_dnat", netns=ns
    ).stdout
    mapped = set()
    for item in json.loads(out)["nftables"]:
        for elem in (item.get("map") or {}).get("elem", []):
            mapped.add(str(elem[0]))
    return mapped
