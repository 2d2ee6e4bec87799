"""NetnsRouterDriver without a kernel: its checks, names and the commands
of the association fast path, against a recording runner. Real packets:
tests/integration/l3/."""

import shutil

import pytest
from oslo_config import cfg

from arame.agents.l3.drivers import base, netns, netns_floating
from arame.common import runner
from arame.common.conf import hva_networking, l3

from .specs import message


class Recorder:
    def __init__(self):
        self.calls: list[tuple[str | None, list[str], str]] = []

    def run(self, args, *, netns=None, input=None, ok_codes=(0,), **_):
        args = [str(a) for a in args]
        self.calls.append((netns, args, input or ""))
        out = "arping\n" if args[-1] == "--list" else ""
        return runner.Result(args, 0, out, "")

    def commands(self) -> list[str]:
        return [" ".join(a) for _, a, _ in self.calls]


@pytest.fixture
def rec(monkeypatch, tmp_path):
    r = Recorder()
    monkeypatch.setattr(runner, "run", r.run)
    monkeypatch.setattr(netns, "NETNS_DIR", str(tmp_path))
    monkeypatch.setattr(shutil, "which", lambda name: f"/bin/{name}")
    return r


def conf() -> cfg.ConfigOpts:
    c = cfg.ConfigOpts()
    c.register_opts(hva_networking.opts, group="hva_networking")
    c([], default_config_files=[])
    c.set_override("local_ip", "192.0.2.1", group="hva_networking")
    c.set_override("mtu", 1400, group="hva_networking")
    return c


def driver(**kw) -> netns.NetnsRouterDriver:
    kw.setdefault("conf", conf())
    # the commands' path (the in-process one: test_netns_inproc)
    kw.setdefault("in_process", False)
    return netns.NetnsRouterDriver("hostns", "lab-", **kw)


@pytest.mark.parametrize(
    "kw",
    [
        {"netns": "a b"},
        {"netns": "../x"},
        {"namespace_prefix": "a/"},
        {"physical_networks": {"Public": "eth1"}},
        {"physical_networks": {"public": "eth1; reboot"}},
        {"physical_networks": {"public": "a-name-far-too-long"}},
    ],
)
def test_constructor_refuses(kw, rec):
    with pytest.raises(base.RouterError):
        netns.NetnsRouterDriver(conf=conf(), **kw)


def test_defaults(rec):
    d = netns.NetnsRouterDriver(conf=conf())
    assert d.netns is None and d.prefix == "arame-"
    assert d.physical_networks == {"public": "eth1"}
    assert d.namespace("rt-abcd1234") == "arame-rt-abcd1234"
    with pytest.raises(base.InvalidRouter):
        d.namespace("rt-../../x")


def test_routers_by_prefix(rec, tmp_path):
    for name in ("lab-rt-abcd1234", "lab-rt-bad", "other-rt-abcd1235", "x"):
        (tmp_path / name).touch()
    assert driver().routers() == {"rt-abcd1234"}


def test_external_bridge_plumbing_takes_the_mapped_device(rec):
    d = driver(physical_networks={"public": "ethx"})
    ext = d._external_networking("public")
    assert ext.settings.physical_device == "ethx"
    # everything else as [hva_networking] says
    assert ext.settings.mtu == 1400
    assert ext.settings.local_ip == "192.0.2.1"
    assert d.tenant_networking.settings.physical_device is None
    assert d._external_networking("public") is ext


def test_unknown_physical_network_before_any_change(rec):
    d = driver(physical_networks={"other": "eth2"})
    rec.calls.clear()
    with pytest.raises(netns.UnknownPhysicalNetwork):
        d.apply(base.parse_router(message()))
    assert rec.calls == []


def test_from_conf(rec):
    c = conf()
    l3.register(c)
    c.set_override("netns", "nshost", group="l3")
    c.set_override("namespace_prefix", "r-", group="l3")
    c.set_override("physical_networks", {"public": "eth9"}, group="l3")
    c.set_override("max_connections", 99, group="l3")
    d = netns.NetnsRouterDriver.from_conf(c)
    assert (d.netns, d.prefix, d.physical_networks, d.max_connections) == (
        "nshost",
        "r-",
        {"public": "eth9"},
        99,
    )


def test_association_fast_path(rec, tmp_path):
    """Only the floating IPs changed since the last apply: the /32s and
    the maps' elements (at once), the ARP; no link or bridge is looked
    at, no whole ruleset loaded."""
    d = driver()
    before = message(floating_ips=[])
    d._applied["rt-abcd1234"] = base.parse_router(before)
    (tmp_path / "lab-rt-abcd1234").touch()
    rec.calls.clear()
    d.apply(base.parse_router(message()))
    # in the router's namespace: `ip -n` enters it itself (no nsenter)
    ns = {n for n, a, _ in rec.calls if a[0] != "ip"}
    assert ns == {"lab-rt-abcd1234"}
    assert {n for n, a, _ in rec.calls if a[0] == "ip"} == {None}
    cmds = rec.commands()
    inputs = {" ".join(a): i for _, a, i in rec.calls[:2]}
    assert sorted(cmds[:2]) == ["ip -n lab-rt-abcd1234 -batch -", "nft -f -"]
    assert inputs["ip -n lab-rt-abcd1234 -batch -"] == (
        "addr add 203.0.113.20/32 dev qg0\naddr add 203.0.113.21/32 dev qg0\n"
    )
    assert inputs["nft -f -"] == netns_floating.map_changes(
        {}, {"203.0.113.20": "10.0.0.5", "203.0.113.21": "10.0.1.5"}
    )
    assert (
        "add element ip arame_router fip_dnat { 203.0.113.20 : 10.0.0.5 }"
        in (inputs["nft -f -"])
    )
    assert sorted(cmds[2:]) == [
        "/bin/busybox arping -U -c 1 -w 0 -I qg0 -s 203.0.113.20 203.0.113.20",
        "/bin/busybox arping -U -c 1 -w 0 -I qg0 -s 203.0.113.21 203.0.113.21",
    ]
    # and back: elements out, flows cut, then the /32 removed
    rec.calls.clear()
    d.apply(base.parse_router(before))
    assert rec.commands() == [
        "nft -f -",
        "conntrack -D --orig-dst 203.0.113.20",
        "conntrack -D --reply-dst 203.0.113.20",
        "conntrack -D --orig-dst 203.0.113.21",
        "conntrack -D --reply-dst 203.0.113.21",
        "ip -n lab-rt-abcd1234 -batch -",
    ]
    assert rec.calls[0][2].startswith(
        "delete element ip arame_router fip_dnat { 203.0.113.20 }\n"
    )
    assert rec.calls[-1][2] == (
        "addr del 203.0.113.20/32 dev qg0\naddr del 203.0.113.21/32 dev qg0\n"
    )


def test_map_changes():
    assert netns_floating.map_changes({"198.51.100.1": "10.0.0.5"}, {}) == (
        "delete element ip arame_router fip_dnat { 198.51.100.1 }\n"
        "delete element ip arame_router fip_snat { 10.0.0.5 }\n"
    )
    # moved to another fixed address: out, then in again
    assert netns_floating.map_changes(
        {"198.51.100.1": "10.0.0.5"}, {"198.51.100.1": "10.0.0.6"}
    ) == (
        "delete element ip arame_router fip_dnat { 198.51.100.1 }\n"
        "delete element ip arame_router fip_snat { 10.0.0.5 }\n"
        "add element ip arame_router fip_dnat { 198.51.100.1 : 10.0.0.6 }\n"
        "add element ip arame_router fip_snat { 10.0.0.6 : 198.51.100.1 }\n"
    )
    assert (
        netns_floating.map_changes(
            {"198.51.100.1": "10.0.0.5"}, {"198.51.100.1": "10.0.0.5"}
        )
        == ""
    )


def test_refused_map_changes_load_the_whole_ruleset(
    rec, tmp_path, monkeypatch
):
    d = driver()
    d._applied["rt-abcd1234"] = base.parse_router(message(floating_ips=[]))
    (tmp_path / "lab-rt-abcd1234").touch()
    first = []

    def run(args, *, netns=None, input=None, **kw):
        if args[0] == "nft" and not first:
            first.append(input)
            raise runner.CommandError(
                list(args), "exit 1", exit_code=1, stderr="No such file"
            )
        return rec.run(args, netns=netns, input=input, **kw)

    monkeypatch.setattr(runner, "run", run)
    d.apply(base.parse_router(message()))
    nft = [i for _, a, i in rec.calls if a[0] == "nft"]
    assert first and "add element" in first[0]
    assert len(nft) == 1 and nft[0].startswith("table ip arame_router\n")
    assert "rt-abcd1234" in d._applied


def test_a_failed_apply_forgets_the_last_spec(rec, tmp_path, monkeypatch):
    d = driver()
    d._applied["rt-abcd1234"] = base.parse_router(message(floating_ips=[]))
    (tmp_path / "lab-rt-abcd1234").touch()

    def fail(*a, **kw):
        raise base.RouterError("nft said no")

    monkeypatch.setattr(runner, "run", fail)
    with pytest.raises(base.RouterError):
        d.apply(base.parse_router(message()))
    assert "rt-abcd1234" not in d._applied  # the next apply reads it all


def test_remove_of_nothing(rec):
    d = driver()
    rec.calls.clear()
    d.remove("rt-abcd1234")
    # only a look for a host end left behind
    assert [a[:4] for _, a, _ in rec.calls] == [["ip", "-j", "-d", "addr"]]


def test_changes_of_a_delta_and_of_a_full_message():
    last = base.parse_router(message())
    moved = base.with_floating_ip(last, "203.0.113.21", "10.0.1.6")
    # the unchanged mapping is the same object: skipped without text
    assert moved.floating_ips[0] is last.floating_ips[0]
    assert netns_floating.changes(last, moved) == (
        {"203.0.113.21": "10.0.1.5"},
        {"203.0.113.21": "10.0.1.6"},
    )
    # a full message: new objects, the same pairs are no change
    again = base.parse_router(message())
    assert netns_floating.changes(last, again) == ({}, {})
    assert not netns_floating.only_floating_ips_differ(last, again)
    assert netns_floating.only_floating_ips_differ(last, moved)


def test_a_delta_is_checked_against_the_others():
    last = base.parse_router(message())
    with pytest.raises(base.InvalidRouter, match="two floating IPs"):
        base.with_floating_ip(last, "203.0.113.22", "10.0.1.5")
    with pytest.raises(base.InvalidRouter, match="no attached network"):
        base.with_floating_ip(last, "203.0.113.22", "192.0.2.9")
    # moving an address to its own fixed address again is no conflict
    same = base.with_floating_ip(last, "203.0.113.21", "10.0.1.5")
    assert same == last
    added = base.with_floating_ip(last, "203.0.113.15", "10.0.0.9")
    assert [str(f.address) for f in added.floating_ips] == [
        "203.0.113.15",
        "203.0.113.20",
        "203.0.113.21",
    ]
