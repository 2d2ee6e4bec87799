"""The bridge dnsmasq listens on is refused its address while another link
in the namespace routes its subnet: dnsmasq answers DNS through the routing
table, so that link would take every answer to the bridge's guests (seen as
guests that get their address and reach each other while every DNS query
times out)."""

import json

import pytest

from arame.agents.nsa import plumbing
from arame.common import runner


def link(name, *addrs):
    return {
        "ifname": name,
        "addr_info": [
            {"local": a.split("/")[0], "prefixlen": int(a.split("/")[1])}
            for a in addrs
        ],
    }


LAB = [link("lo", "127.0.0.1/8"), link("arame-ul0", "198.18.0.1/24")]


@pytest.mark.parametrize(
    "other",
    [
        "10.200.0.1/24",  # the same subnet: the older route wins
        "10.200.0.129/25",  # inside it: half the guests go there
        "10.200.0.7/32",  # one address of it
    ],
)
def test_a_link_routing_the_subnet_or_part_of_it_takes_the_answers(other):
    links = LAB + [link("nw-other", other), link("nw-mine")]
    assert plumbing.route_thief(links, "nw-mine", "10.200.0.1/24") == (
        "nw-other",
        other,
    )


@pytest.mark.parametrize(
    "links",
    [
        LAB,
        # Its own address (a restart, hva's bridge) is not another link.
        LAB + [link("nw-mine", "10.200.0.1/24")],
        # A wider subnet around it: the longer prefix still wins.
        LAB + [link("eth0", "10.0.0.5/8")],
        LAB + [link("nw-next", "10.200.1.1/24")],
    ],
)
def test_other_subnets_leave_the_bridge_its_guests(links):
    assert plumbing.route_thief(links, "nw-mine", "10.200.0.1/24") is None


class FakeIp:
    """`ip` in a namespace: answers `-j -4 addr show` from `links`,
    records everything else."""

    def __init__(self, links):
        self.links = links
        self.calls = []

    def __call__(self, args, netns=None, **kw):
        self.calls.append((list(args), netns))
        if args[:5] == ["ip", "-j", "-4", "addr", "show"] and len(args) == 5:
            out = json.dumps(self.links)
        elif args[:3] == ["ip", "-j", "link"]:
            out = ""
        else:
            out = "[]"
        return runner.Result(list(args), 0, out, "")


def test_ensure_refuses_a_taken_subnet_and_makes_nothing(monkeypatch):
    ip = FakeIp(LAB + [link("nw-stale", "10.200.0.1/24")])
    monkeypatch.setattr(runner, "run", ip)
    with pytest.raises(plumbing.SubnetInUse) as e:
        plumbing.ensure("nw-mine", "10.200.0.1/24", 1450, "arame-lab")
    msg = str(e.value)
    assert "10.200.0.0/24" in msg and "nw-stale" in msg
    assert "arame-lab" in msg and "DNS" in msg
    assert [c[0][:4] for c in ip.calls] == [["ip", "-j", "-4", "addr"]]
    assert all(c[1] == "arame-lab" for c in ip.calls)


def test_ensure_makes_the_bridge_when_the_subnet_is_free(monkeypatch):
    ip = FakeIp(LAB)
    monkeypatch.setattr(runner, "run", ip)
    assert plumbing.ensure("nw-mine", "10.200.0.1/24", 1450, "arame-lab")
    made = [c[0] for c in ip.calls]
    assert ["ip", "link", "add", "nw-mine", "type", "bridge"] in made
    assert ["ip", "addr", "add", "10.200.0.1/24", "dev", "nw-mine"] in made
