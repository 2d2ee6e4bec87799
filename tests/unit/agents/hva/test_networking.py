"""Bridge plumbing: the commands it generates, against a fake runner.

The runner answers reads (`ip -j ...`, `bridge -j ...`) from a small model
of the host's links and records every command; changes are not applied to
the model, so each test states the host as it is and checks what would be
run. Real packets: tests/integration/networking/.
"""

import json

import pytest
from oslo_config import cfg

from arame.agents.hva import networking
from arame.agents.hva.networking import iproute
from arame.common import runner
from arame.common.conf import CONF, hva_networking

NS = "labns"
NET = "nw-abcd1234"
VX = "vx-abcd1234"
LOCAL = "192.0.2.1"


def make_link(
    name, kind=None, *, mtu=1450, up=True, master=None, lower=None, **info_data
):
    link = {
        "ifname": name,
        "mtu": mtu,
        "flags": ["BROADCAST", "MULTICAST"] + (["UP"] if up else []),
    }
    if master:
        link["master"] = master
    if lower:
        link["link"] = lower
    if kind:
        link["linkinfo"] = {"info_kind": kind, "info_data": info_data}
    return link


def vxlan(vni=1001, *, group=None, dev=None, **kw):
    data = {"id": vni, "local": LOCAL, "port": 4789, "learning": True}
    if group:
        data.update(group=group, link=dev)
    return make_link(VX, "vxlan", master=kw.pop("master", NET), **kw, **data)


class FakeRunner:
    def __init__(self):
        self.calls: list[tuple[str | None, list[str]]] = []
        self.links: dict[str, dict] = {}
        self.addresses: dict[str, list[str]] = {}
        self.fdb: dict[str, list[str]] = {}
        self.failures: dict[tuple[str, ...], tuple[int, str]] = {}

    def add(self, *links):
        for link in links:
            self.links[link["ifname"]] = link

    def run(self, args, *, netns=None, ok_codes=(0,), **_):
        args = [str(a) for a in args]
        self.calls.append((netns, args))
        code, out, err = self._answer(args)
        if code not in ok_codes:
            raise runner.CommandError(
                args, f"exit {code}: {err}", exit_code=code, stderr=err
            )
        return runner.Result(args, code, out, err)

    @property
    def changes(self) -> list[list[str]]:
        return [a for _, a in self.calls if "-j" not in a[:2]]

    def _answer(self, args):
        for prefix, (code, err) in self.failures.items():
            if tuple(args[: len(prefix)]) == prefix:
                return code, "", err
        if args[:6] == ["ip", "-j", "-d", "addr", "show", "dev"]:
            link = self.links.get(args[6])
            if link is None:
                return 1, "", f'Device "{args[6]}" does not exist.\n'
            info = [
                {"family": "inet", "local": a, "scope": "global"}
                for a in self.addresses.get(args[6], [])
            ]
            return 0, json.dumps([{**link, "addr_info": info}]), ""
        if args[:5] == ["ip", "-j", "-d", "link", "show"]:
            rest = args[5:]
            found = list(self.links.values())
            if "master" in rest:
                m = rest[rest.index("master") + 1]
                found = [v for v in found if v.get("master") == m]
            if "type" in rest:
                k = rest[rest.index("type") + 1]
                found = [
                    v
                    for v in found
                    if v.get("linkinfo", {}).get("info_kind") == k
                ]
            return 0, json.dumps(found), ""
        if args[:5] == ["ip", "-j", "-4", "addr", "show"]:
            dev = args[6]
            if dev not in self.addresses:
                return 1, "", f'Device "{dev}" does not exist.\n'
            info = [
                {"family": "inet", "local": a} for a in self.addresses[dev]
            ]
            return 0, json.dumps([{"ifname": dev, "addr_info": info}]), ""
        if args[:4] == ["bridge", "-j", "fdb", "show"]:
            entries = [
                {"mac": "00:00:00:00:00:00", "dst": d}
                for d in self.fdb.get(args[5], [])
            ]
            return 0, json.dumps(entries), ""
        return 0, "", ""


@pytest.fixture
def fake(monkeypatch):
    f = FakeRunner()
    monkeypatch.setattr(runner, "run", f.run)
    return f


def make(**options) -> networking.LinuxBridgeNetworking:
    conf = cfg.ConfigOpts()
    # By name, not with hva_networking.register: a registered OptGroup
    # object holds the overrides, so sharing it would share them.
    conf.register_opts(hva_networking.opts, group=hva_networking.group.name)
    conf([], default_config_files=[])
    for name, value in options.items():
        conf.set_override(name, value, group="hva_networking")
    return networking.LinuxBridgeNetworking(netns=NS, conf=conf)


def vxnet(vni=1001, **kw):
    return {
        "id": NET,
        "segmentation": "vxlan",
        "segment_id": vni,
        "mtu": 1450,
        **kw,
    }


BRIDGE_ADD = [
    "ip",
    "link",
    "add",
    "name",
    NET,
    "type",
    "bridge",
    "stp_state",
    "0",
    "forward_delay",
    "0",
]
NO_IPV6 = ["sysctl", "-q", "-w", f"net.ipv6.conf.{NET}.disable_ipv6=1"]
BRIDGE_UP = ["ip", "link", "set", "dev", NET, "mtu", "1450", "up"]


# -- names ---------------------------------------------------------------------


def test_names_fit_linux_links():
    n = make()
    assert n.bridge_name(NET) == NET
    assert n.tap_name("i-3k9x2m0q", 0) == "tap3k9x2m0q-0"
    assert len(n.tap_name("i-3k9x2m0q", 99)) <= 15


@pytest.mark.parametrize(
    "bad", ["nw-ABCD1234", "i-abcd1234", "nw-abc", "nw-abcd1234; rm", None, 7]
)
def test_bad_network_ids_are_refused(fake, bad):
    n = make()
    for call in (n.bridge_name, n.release_network):
        with pytest.raises(networking.InvalidNetwork):
            call(bad)
    with pytest.raises(networking.InvalidNetwork):
        n.ensure_network({"id": bad, "segment_id": 1})
    assert fake.calls == []


@pytest.mark.parametrize(
    "instance_id, index",
    [
        ("nw-abcd1234", 0),
        ("i-abcd123", 0),
        ("i-abcd1234", -1),
        ("i-abcd1234", 100),
        ("i-abcd1234", "0"),
        ("i-abcd1234", True),
    ],
)
def test_bad_tap_names_are_refused(instance_id, index):
    with pytest.raises(networking.InvalidNetwork):
        make().tap_name(instance_id, index)


@pytest.mark.parametrize(
    "network",
    [
        vxnet(0),
        vxnet(2**24),
        vxnet(-1),
        vxnet("1001"),
        vxnet(True),
        vxnet(1.5),
        vxnet(None),
        {"id": NET, "segmentation": "vlan", "segment_id": 4095},
        {"id": NET, "segmentation": "vlan", "segment_id": 0},
        {"id": NET, "segmentation": "flat", "segment_id": 5},
        {"id": NET, "segmentation": "gre", "segment_id": 5},
        vxnet(mtu=67),
        vxnet(mtu=70000),
        vxnet(mtu="1450"),
        "nw-abcd1234",
    ],
)
def test_invalid_networks_run_no_command(fake, network):
    with pytest.raises(networking.InvalidNetwork):
        make(local_ip=LOCAL).ensure_network(network)
    assert fake.calls == []


def test_segment_limits_are_accepted(fake):
    n = make(local_ip=LOCAL, vxlan_group="")
    n.ensure_network(vxnet(1))
    n.ensure_network(vxnet(2**24 - 1))
    assert any("16777215" in c for c in fake.changes[-2])


# -- VXLAN ---------------------------------------------------------------------


def test_new_vxlan_network_with_multicast_flooding(fake):
    fake.addresses["eth1"] = [LOCAL, "192.0.2.9"]
    n = make(underlay_device="eth1")
    assert n.ensure_network(vxnet()) == NET
    assert fake.changes == [
        BRIDGE_ADD,
        NO_IPV6,
        [
            "ip",
            "link",
            "add",
            "name",
            VX,
            "mtu",
            "1450",
            "master",
            NET,
            "up",
            "type",
            "vxlan",
            "id",
            "1001",
            "local",
            LOCAL,
            "group",
            "239.1.1.1",
            "dev",
            "eth1",
            "dstport",
            "4789",
            "learning",
        ],
        BRIDGE_UP,
    ]
    assert {ns for ns, _ in fake.calls} == {NS}


def test_new_vxlan_network_with_unicast_peers(fake):
    n = make(
        local_ip=LOCAL,
        vxlan_port=8472,
        vxlan_peers=["192.0.2.3", LOCAL, "192.0.2.2"],
    )
    n.ensure_network(vxnet(mtu=1400))
    vx_add = fake.changes[2]
    assert "group" not in vx_add and vx_add[-3:] == [
        "dstport",
        "8472",
        "learning",
    ]
    assert vx_add[5:7] == ["mtu", "1400"]
    assert fake.changes[3:] == [  # its own address is skipped
        [
            "bridge",
            "fdb",
            "append",
            "00:00:00:00:00:00",
            "dev",
            VX,
            "dst",
            "192.0.2.2",
        ],
        [
            "bridge",
            "fdb",
            "append",
            "00:00:00:00:00:00",
            "dev",
            VX,
            "dst",
            "192.0.2.3",
        ],
        ["ip", "link", "set", "dev", NET, "mtu", "1400", "up"],
    ]


def test_an_existing_network_costs_only_reads(fake):
    fake.add(make_link(NET, "bridge"), vxlan(group="239.1.1.1", dev="eth1"))
    fake.addresses["eth1"] = [LOCAL]
    n = make(underlay_device="eth1")
    n.ensure_network(vxnet())
    n.ensure_network(vxnet())
    assert fake.changes == []
    # the underlay address is looked up once
    assert sum(a[:3] == ["ip", "-j", "-4"] for _, a in fake.calls) == 1


def test_unicast_peers_converge(fake):
    fake.add(make_link(NET, "bridge"), vxlan())
    fake.fdb[VX] = ["192.0.2.7", "192.0.2.2"]
    make(
        local_ip=LOCAL, vxlan_peers=["192.0.2.2", "192.0.2.3"]
    ).ensure_network(vxnet())
    assert fake.changes == [
        [
            "bridge",
            "fdb",
            "append",
            "00:00:00:00:00:00",
            "dev",
            VX,
            "dst",
            "192.0.2.3",
        ],
        [
            "bridge",
            "fdb",
            "del",
            "00:00:00:00:00:00",
            "dev",
            VX,
            "dst",
            "192.0.2.7",
        ],
    ]


def test_drift_is_repaired(fake):
    fake.add(
        make_link(NET, "bridge", mtu=1500, up=False),
        vxlan(mtu=1500, up=False, master="other"),
    )
    make(local_ip=LOCAL, vxlan_group="").ensure_network(vxnet())
    assert fake.changes == [
        NO_IPV6,  # the bridge never came up: finish what was started
        ["ip", "link", "set", "dev", VX, "mtu", "1450", "master", NET, "up"],
        BRIDGE_UP,
    ]


def test_a_vxlan_device_with_other_settings_is_remade(fake):
    fake.add(make_link(NET, "bridge"), vxlan(vni=42))
    make(local_ip=LOCAL, vxlan_group="").ensure_network(vxnet())
    assert fake.changes[0] == ["ip", "link", "del", "dev", VX]
    assert fake.changes[1][:4] == ["ip", "link", "add", "name"]
    assert len(fake.changes) == 2


def test_a_device_named_like_the_bridge_that_is_no_bridge(fake):
    fake.add(make_link(NET, "veth"))
    with pytest.raises(networking.NetworkingError, match="not a bridge"):
        make(local_ip=LOCAL, vxlan_group="").ensure_network(vxnet())
    assert fake.changes == []


def test_vni_held_elsewhere_is_typed_and_the_new_bridge_removed(fake):
    fake.failures[("ip", "link", "add", "name", VX)] = (
        2,
        "Error: A VXLAN device with the specified VNI already exists.",
    )
    with pytest.raises(networking.SegmentInUse):
        make(local_ip=LOCAL, vxlan_group="").ensure_network(vxnet())
    assert fake.changes[-1] == ["ip", "link", "del", "dev", NET]


def test_kernel_without_vxlan(fake):
    fake.failures[("ip", "link", "add", "name", VX)] = (
        2,
        "Error: Unknown device type.",
    )
    with pytest.raises(networking.KernelFeatureMissing) as e:
        make(local_ip=LOCAL, vxlan_group="").ensure_network(vxnet())
    assert e.value.feature.startswith("VXLAN")


def test_kernel_without_ipv6_is_fine(fake):
    fake.failures[("sysctl",)] = (
        1,
        "sysctl: cannot stat /proc/sys/net/ipv6/conf/x: No such file",
    )
    make(local_ip=LOCAL, vxlan_group="").ensure_network(vxnet())
    assert fake.changes[-1] == BRIDGE_UP


@pytest.mark.parametrize(
    "options, match",
    [
        ({}, "local_ip or underlay_device"),
        ({"local_ip": LOCAL}, "needs underlay_device"),
        ({"underlay_device": "eth9"}, "eth9"),
    ],
)
def test_underlay_problems_are_typed(fake, options, match):
    with pytest.raises(networking.UnderlayError, match=match):
        make(**options).ensure_network(vxnet())
    assert not any(a[:3] == ["ip", "link", "add"] for a in fake.changes)


def test_underlay_without_an_address(fake):
    fake.addresses["eth1"] = []
    with pytest.raises(networking.UnderlayError, match="no IPv4"):
        make(underlay_device="eth1").ensure_network(vxnet())


@pytest.mark.parametrize(
    "options",
    [
        {"underlay_device": "eth1 up"},
        {"underlay_device": "-eth"},
        {"physical_device": "a" * 16},
        {"physical_device": "eth/1"},
        {"vxlan_group": "192.0.2.1"},
        {"vxlan_group": "239.1.1.1 dev x"},
    ],
)
def test_bad_options_are_refused_before_any_command(fake, options):
    with pytest.raises(networking.UnderlayError):
        make(**options)
    assert fake.calls == []


# -- VLAN and flat -------------------------------------------------------------


def vlannet(vid=100):
    return {"id": NET, "segmentation": "vlan", "segment_id": vid, "mtu": 1450}


def test_new_vlan_network(fake):
    make(physical_device="eth2").ensure_network(vlannet(4094))
    assert fake.changes == [
        BRIDGE_ADD,
        NO_IPV6,
        [
            "ip",
            "link",
            "add",
            "link",
            "eth2",
            "name",
            "eth2.4094",
            "mtu",
            "1450",
            "master",
            NET,
            "up",
            "type",
            "vlan",
            "protocol",
            "802.1Q",
            "id",
            "4094",
        ],
        BRIDGE_UP,
    ]


def test_existing_vlan_network_costs_only_reads(fake):
    fake.add(
        make_link(NET, "bridge"),
        make_link(
            "eth2.100",
            "vlan",
            master=NET,
            lower="eth2",
            protocol="802.1Q",
            id=100,
        ),
    )
    make(physical_device="eth2").ensure_network(vlannet())
    assert fake.changes == []


def test_kernel_without_vlan_support_names_the_feature(fake):
    # What `ip link add ... type vlan` says on these machines.
    fake.failures[("ip", "link", "add", "link")] = (
        2,
        "Error: Unknown device type.",
    )
    with pytest.raises(networking.KernelFeatureMissing) as e:
        make(physical_device="eth2").ensure_network(vlannet())
    assert "802.1q" in e.value.feature and "802.1q" in str(e.value)
    assert e.value.details == {"feature": e.value.feature}
    # the bridge made for it is removed again
    assert fake.changes[-1] == ["ip", "link", "del", "dev", NET]


def test_vlan_needs_a_physical_device_and_a_short_name(fake):
    with pytest.raises(networking.UnderlayError, match="physical_device"):
        make().ensure_network(vlannet())
    with pytest.raises(networking.UnderlayError, match="longer"):
        make(physical_device="enp129s0f1np1").ensure_network(vlannet())
    assert fake.calls == []


def test_flat_network_takes_an_unaddressed_device(fake):
    fake.add(make_link("eth2", "veth"))
    make(physical_device="eth2").ensure_network(
        {"id": NET, "segmentation": "flat"}
    )
    assert fake.changes == [
        BRIDGE_ADD,
        NO_IPV6,
        ["ip", "link", "set", "dev", "eth2", "master", NET, "up"],
        BRIDGE_UP,
    ]


def test_flat_refuses_a_device_with_an_address(fake):
    fake.add(make_link("eth2", "veth"))
    fake.addresses["eth2"] = ["192.0.2.1"]
    with pytest.raises(networking.UnderlayError, match="cut this host off"):
        make(physical_device="eth2").ensure_network(
            {"id": NET, "segmentation": "flat"}
        )
    assert fake.changes[-1] == ["ip", "link", "del", "dev", NET]


def test_flat_device_on_another_bridge_is_in_use(fake):
    fake.add(make_link("eth2", "veth", master="nw-other123"))
    with pytest.raises(networking.SegmentInUse):
        make(physical_device="eth2").ensure_network(
            {"id": NET, "segmentation": "flat"}
        )


# -- release and inventory -----------------------------------------------------


def test_release_keeps_a_network_with_nics(fake):
    fake.add(
        make_link(NET, "bridge"),
        vxlan(),
        make_link("tapabcd1234-0", "tun", master=NET),
    )
    make().release_network(NET)
    assert fake.changes == []


def test_release_keeps_a_bridge_a_local_service_has_an_address_on(fake):
    fake.add(make_link(NET, "bridge"), vxlan())
    fake.addresses[NET] = ["10.10.0.2"]  # nsa's dnsmasq, say
    make().release_network(NET)
    assert fake.changes == []


def test_release_removes_port_then_bridge(fake):
    fake.add(make_link(NET, "bridge"), vxlan())
    make().release_network(NET)
    assert fake.changes == [
        ["ip", "link", "del", "dev", VX],
        ["ip", "link", "del", "dev", NET],
    ]


def test_release_of_a_flat_network_lets_the_device_go(fake):
    fake.add(make_link(NET, "bridge"), make_link("eth2", "veth", master=NET))
    make(physical_device="eth2").release_network(NET)
    assert fake.changes == [
        ["ip", "link", "del", "dev", NET],
        ["ip", "link", "del", "dev", VX],
    ]


def test_release_of_a_vlan_network_deletes_the_subinterface(fake):
    fake.add(
        make_link(NET, "bridge"),
        make_link(
            "eth2.100",
            "vlan",
            master=NET,
            lower="eth2",
            protocol="802.1Q",
            id=100,
        ),
    )
    make(physical_device="eth2").release_network(NET)
    assert fake.changes == [
        ["ip", "link", "del", "dev", "eth2.100"],
        ["ip", "link", "del", "dev", NET],
        ["ip", "link", "del", "dev", VX],
    ]


def test_release_removes_a_vxlan_port_taken_off_the_bridge(fake):
    fake.add(make_link(NET, "bridge"), vxlan(master=None))
    make().release_network(NET)
    assert fake.changes == [
        ["ip", "link", "del", "dev", NET],
        ["ip", "link", "del", "dev", VX],
    ]


def test_release_of_nothing_is_success(fake):
    fake.failures[("ip", "link", "del")] = (
        1,
        'Cannot find device "vx-abcd1234"',
    )
    make().release_network(NET)
    assert fake.changes == [["ip", "link", "del", "dev", VX]]


def test_release_failure_is_typed(fake):
    fake.add(make_link(NET, "bridge"))
    fake.failures[("ip", "link", "del")] = (2, "RTNETLINK answers: busy")
    with pytest.raises(networking.NetworkingError, match="busy"):
        make().release_network(NET)


def test_networks_lists_only_network_bridges(fake):
    fake.add(
        make_link(NET, "bridge"),
        make_link("nw-zzzz9999", "bridge"),
        make_link("virbr0", "bridge"),
        make_link("br-0123456789ab", "bridge"),
        make_link("nw-yyyy8888", "veth"),
    )
    assert make().networks() == {NET, "nw-zzzz9999"}


def test_options_come_from_the_global_conf(config, fake):
    hva_networking.register(CONF)  # until conf/__init__ lists the module
    config("local_ip", LOCAL, group="hva_networking")
    config("vxlan_peers", ["192.0.2.5"], group="hva_networking")
    n = networking.LinuxBridgeNetworking()
    assert n.settings.flooding == "unicast" and n.netns is None
    n.ensure_network(vxnet())
    assert {ns for ns, _ in fake.calls} == {None}


def test_iproute_feature_names():
    assert set(iproute.FEATURES) == {"bridge", "vxlan", "vlan"}
