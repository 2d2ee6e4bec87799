"""The bridge of a segmented network: nsa makes it with hva's networking
(bridge + VXLAN port, VNI = segment id, from [hva_networking]), so a
naming host without a hypervisor serves guests on other hosts; and
removes only what it made, never a bridge a guest's tap is on.

A recording runner stands for the host: it answers nsa's reads (`ip -j`)
and hva's (`ip -j -d`) from a small model of links, addresses and ports,
applies the `ip link add/del` and `ip addr add/del` it is given, and
records every command."""

import json

import pytest
from oslo_config import cfg

from arame.agents.hva.networking import LinuxBridgeNetworking
from arame.agents.nsa import plumbing, records
from arame.common import runner
from arame.common.conf import hva_networking

NS = "naming"
NET = "nw-abcd1234"
VX = "vx-abcd1234"
ADDR = "10.20.0.1/24"
SEGMENT = {
    "id": NET,
    "segmentation": "vxlan",
    "segment_id": 1001,
    "mtu": 1450,
}


class Host:
    """Links (name -> {kind, master, addresses}) as `ip` would show them."""

    def __init__(self):
        self.links: dict[str, dict] = {}
        self.calls: list[list[str]] = []

    def link(self, name, kind=None, master=None, *addresses):
        self.links[name] = {
            "kind": kind,
            "master": master,
            "addresses": list(addresses),
        }

    def _json(self, name):
        link = self.links[name]
        out = {
            "ifname": name,
            "mtu": 1450,
            "flags": ["UP"],
            "addr_info": [
                {
                    "family": "inet",
                    "local": a.split("/")[0],
                    "prefixlen": int(a.split("/")[1]),
                    "scope": "global",
                }
                for a in link["addresses"]
            ],
        }
        if link["master"]:
            out["master"] = link["master"]
        if link["kind"]:
            out["linkinfo"] = {"info_kind": link["kind"], "info_data": {}}
            if link["kind"] == "vxlan":
                out["linkinfo"]["info_data"] = {
                    "id": 1001,
                    "local": "192.0.2.1",
                    "port": 4789,
                    "learning": True,
                }
        return out

    def run(self, args, *, netns=None, ok_codes=(0,), **_):
        args = [str(a) for a in args]
        assert netns == NS, args
        self.calls.append(args)
        code, out = self._answer(args)
        err = "Device does not exist." if code else ""
        if code not in ok_codes:
            raise runner.CommandError(
                args, f"exit {code}", exit_code=code, stderr=err
            )
        return runner.Result(args, code, out, err)

    def _answer(self, args):
        shown = [a for a in args if a not in ("-d", "-4")]
        if shown[:3] == ["ip", "-j", "link"] and "dev" in shown:
            name = shown[shown.index("dev") + 1]
            if name not in self.links:
                return 1, ""
            return 0, json.dumps([self._json(name)])
        if shown[:3] == ["ip", "-j", "addr"] and "dev" in shown:
            name = shown[shown.index("dev") + 1]
            if name not in self.links:
                return 1, ""
            return 0, json.dumps([self._json(name)])
        if shown[:4] in (
            ["ip", "-j", "addr", "show"],
            ["ip", "-j", "link", "show"],
        ):
            found = list(self.links)
            if "master" in shown:
                m = shown[shown.index("master") + 1]
                found = [n for n in found if self.links[n]["master"] == m]
            if "type" in shown:
                k = shown[shown.index("type") + 1]
                found = [n for n in found if self.links[n]["kind"] == k]
            return 0, json.dumps([self._json(n) for n in found])
        if args[:3] == ["ip", "link", "add"]:
            name = args[args.index("name") + 1] if "name" in args else args[3]
            kind = args[args.index("type") + 1]
            master = (
                args[args.index("master") + 1] if "master" in args else None
            )
            self.link(name, kind, master)
        elif args[:3] == ["ip", "link", "del"]:
            name = args[-1]
            self.links.pop(name, None)
            for link in self.links.values():
                if link["master"] == name:
                    link["master"] = None
        elif args[:3] == ["ip", "addr", "add"]:
            self.links[args[-1]]["addresses"].append(args[3])
        elif args[:3] == ["ip", "addr", "del"]:
            self.links[args[-1]]["addresses"].remove(args[3])
        return 0, ""

    def added(self):
        return [a for a in self.calls if a[:3] == ["ip", "link", "add"]]

    def deleted(self):
        return [a[-1] for a in self.calls if a[:3] == ["ip", "link", "del"]]


@pytest.fixture
def host(monkeypatch):
    h = Host()
    h.link("lo")
    h.link("ul0", None, None, "192.0.2.1/24")
    monkeypatch.setattr(runner, "run", h.run)
    conf = cfg.ConfigOpts()
    # By name: a registered OptGroup object would share its overrides.
    conf.register_opts(hva_networking.opts, group=hva_networking.group.name)
    conf([], default_config_files=[])
    conf.set_override("underlay_device", "ul0", group="hva_networking")
    conf.set_override("vxlan_group", "", group="hva_networking")
    conf.set_override(
        "vxlan_peers", ["192.0.2.1", "192.0.2.2"], group="hva_networking"
    )
    monkeypatch.setattr(
        plumbing,
        "networking",
        lambda netns: LinuxBridgeNetworking(netns, conf=conf),
    )
    return h


def test_a_segmented_network_gets_its_bridge_and_vxlan_port(host):
    assert plumbing.ensure(NET, ADDR, 1450, NS, segment=SEGMENT) is True
    made = host.added()
    assert [a[a.index("name") + 1] for a in made] == [NET, VX]
    vx = made[1]
    assert vx[vx.index("type") + 1 :][:4] == ["vxlan", "id", "1001", "local"]
    assert vx[vx.index("master") + 1] == NET
    # Head-end replication to the other peer, not to itself.
    floods = [a for a in host.calls if a[:3] == ["bridge", "fdb", "append"]]
    assert [a[-1] for a in floods] == ["192.0.2.2"]
    assert ADDR in host.links[NET]["addresses"]
    assert host.links[VX]["master"] == NET


def test_ensure_again_changes_nothing(host):
    plumbing.ensure(NET, ADDR, 1450, NS, segment=SEGMENT)
    before = len(host.added())
    # A restart of nsa (its saved record says it made the bridge).
    assert plumbing.ensure(NET, ADDR, 1450, NS, segment=SEGMENT) is False
    assert len(host.added()) == before
    assert host.links[NET]["addresses"] == [ADDR]


def test_a_bridge_hva_made_gets_the_address_and_stays_hvas(host):
    host.link(NET, "bridge")
    host.link(VX, "vxlan", NET)
    host.link("tapdeadbeef-0", "tun", NET)
    assert plumbing.ensure(NET, ADDR, 1450, NS, segment=SEGMENT) is False
    assert host.added() == []
    plumbing.remove(NET, ADDR, False, NS, segmented=True)
    assert host.deleted() == []
    assert NET in host.links and host.links[NET]["addresses"] == []


def test_remove_takes_the_bridge_and_port_it_made(host):
    plumbing.ensure(NET, ADDR, 1450, NS, segment=SEGMENT)
    plumbing.remove(NET, ADDR, True, NS, segmented=True)
    assert NET not in host.links and VX not in host.links


def test_remove_keeps_a_bridge_it_made_while_a_guest_tap_is_on_it(host):
    # hva on the same host put a guest on nsa's bridge.
    plumbing.ensure(NET, ADDR, 1450, NS, segment=SEGMENT)
    host.link("tapdeadbeef-0", "tun", NET)
    plumbing.remove(NET, ADDR, True, NS, segmented=True)
    assert host.deleted() == []
    assert host.links[NET]["addresses"] == []
    assert host.links[VX]["master"] == NET


def test_a_bare_bridge_it_made_stays_while_a_tap_is_on_it(host):
    # No segmentation in the message: the bare, local bridge of before.
    assert plumbing.ensure(NET, ADDR, 1450, NS) is True
    assert [a[3] for a in host.added()] == [NET]
    host.link("tapdeadbeef-0", "tun", NET)
    plumbing.remove(NET, ADDR, True, NS)
    assert host.deleted() == []
    del host.links["tapdeadbeef-0"]
    plumbing.remove(NET, ADDR, True, NS)
    assert host.deleted() == [NET]


def test_a_vxlan_port_left_by_a_half_done_removal_goes(host):
    host.link(VX, "vxlan")
    plumbing.remove(NET, ADDR, True, NS, segmented=True)
    assert host.deleted() == [VX]


def test_the_message_carries_the_segment_and_names_the_bridge_after_it():
    msg = {
        "id": NET,
        "cidr": "10.20.0.0/24",
        "gateway": "10.20.0.1",
        "dns_domain": "t.test",
        "dhcp_ranges": [],
        "mtu": 1450,
        "bridge": NET,
        "segmentation": "vxlan",
        "segment_id": 1001,
    }
    net = records.parse_network(msg)
    assert net.segment == SEGMENT
    assert records.parse_network(net.to_message()) == net
    old = dict(msg, segmentation=None, segment_id=None)
    assert records.parse_network(old).segment is None
    assert "segmentation" not in records.parse_network(old).to_message()
    for bad in (
        {"segmentation": "gre"},
        {"segment_id": 2**24},
        {"segmentation": "flat"},  # with a segment id
        {"bridge": "br-other"},
    ):
        with pytest.raises(records.InvalidRecord):
            records.parse_network(dict(msg, **bad))
    flat = dict(msg, segmentation="flat", segment_id=None)
    assert records.parse_network(flat).segment["segment_id"] is None


def test_without_an_underlay_for_the_segment_the_bridge_stays_local(host):
    # A flat network and no [hva_networking] physical_device: served on
    # a local bridge, as before, rather than not at all.
    flat = dict(SEGMENT, segmentation="flat", segment_id=None)
    assert plumbing.ensure(NET, ADDR, 1450, NS, segment=flat) is True
    assert [a[3] for a in host.added()] == [NET]
    assert host.links[NET]["addresses"] == [ADDR]
    plumbing.remove(NET, ADDR, True, NS, segmented=True)
    assert NET not in host.links
