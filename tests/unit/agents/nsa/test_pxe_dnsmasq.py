"""TFTP and iPXE files of the dnsmasq driver, with dnsmasq, the plumbing
and `ip` replaced: what dnsmasq is told, what lands in the TFTP root, and
when dnsmasq restarts (the first script only). The real boot is
tests/integration/bma/test_pxe_boot.py."""

import dataclasses
import os
import stat

import pytest

from arame.agents.nsa import records
from arame.agents.nsa.drivers import dnsmasq as dnsmasq_driver
from arame.agents.nsa.drivers import dnsmasq_config as config
from arame.agents.nsa.drivers.dnsmasq import DnsmasqDriver
from arame.common import runner

from .conftest import FakePlumbing, FakeSupervisor, read, res

SCRIPT = "#!ipxe\nsanboot iscsi:10.20.0.2::3260:1:iqn.2025-01.org.x:vol-1\n"


@pytest.fixture
def undionly(tmp_path):
    path = tmp_path / "undionly.kpxe"
    path.write_bytes(b"\x55\xaa-undi")
    return str(path)


@pytest.fixture
def commands(monkeypatch):
    """Every command the driver runs; `ip -j -6 addr show` answers none."""
    ran = []

    def run(args, **kw):
        ran.append(list(args))
        out = "[]" if args[:2] == ["ip", "-j"] else ""
        return runner.Result(args, 0, out, "")

    monkeypatch.setattr(dnsmasq_driver.runner, "run", run)
    return ran


@pytest.fixture
def make_driver(
    nsa_conf_registered,
    config,
    tmp_path,
    fake_timer,
    fake_supervisors,
    commands,
    undionly,
):
    config("undionly_path", undionly, group="nsa")

    def make():
        d = DnsmasqDriver(str(tmp_path / "state"), "labns", timer=fake_timer)
        d.plumbing = FakePlumbing()
        return d

    return make


def node(n: int, script: str | None = SCRIPT):
    return dataclasses.replace(res(n), boot_script=script)


def tftp(d, network) -> str:
    return os.path.join(d.state_path, network.id, "tftp")


def test_argv_of_a_pxe_network(network):
    paths = config.Paths("/s/nw-abcd1234")
    args = config.argv(network, paths, pxe=True, undionly=True)
    for a in (
        "--enable-tftp",
        "--tftp-root=/s/nw-abcd1234/tftp",
        "--dhcp-match=set:ipxe,175",
        "--dhcp-userclass=set:ipxe,iPXE",
        "--dhcp-boot=tag:ipxe,boot.ipxe",
        "--dhcp-boot=tag:!ipxe,undionly.kpxe",
        "--enable-ra",
        "--dhcp-range=::,constructor:br-abcd1234,ra-only",
        "--ra-param=br-abcd1234,60,0",
    ):
        assert a in args
    plain = config.argv(network, paths)
    assert not [a for a in plain if "tftp" in a or "ra" == a[2:4]]
    no_undi = config.argv(network, paths, pxe=True, undionly=False)
    assert "--dhcp-boot=tag:!ipxe,undionly.kpxe" not in no_undi
    assert config.ra_address(network).startswith("fd")
    assert config.ra_address(network).endswith("::1/64")


def test_file_names():
    assert (
        config.script_file_name("52:54:00:0a:0b:0c")
        == "52-54-00-0a-0b-0c.ipxe"
    )
    assert config.script_mac("52-54-00-0a-0b-0c.ipxe") == "52:54:00:0a:0b:0c"
    for other in ("boot.ipxe", "undionly.kpxe", "x.ipxe"):
        assert config.script_mac(other) is None
    assert "chain ${mac:hexhyp}.ipxe" in config.BOOT_IPXE


def test_no_script_no_tftp(make_driver, network, commands):
    d = make_driver()
    d.ensure_network(network)
    d.add_reservation(network.id, res(1))
    (sv,) = FakeSupervisor.made
    assert "--enable-tftp" not in sv.args
    assert d.network_status(network.id)["pxe"] is False
    assert os.listdir(tftp(d, network)) == []
    assert commands == []


def test_first_script_turns_tftp_on_once(
    make_driver, network, commands, fake_timer
):
    d = make_driver()
    d.ensure_network(network)
    d.add_reservation(network.id, node(1))
    first, second = FakeSupervisor.made
    assert not first.running and second.running  # one restart
    assert "--enable-tftp" in second.args
    assert "--dhcp-boot=tag:!ipxe,undionly.kpxe" in second.args
    root = tftp(d, network)
    assert sorted(os.listdir(root)) == [
        "52-54-00-00-00-01.ipxe",
        "boot.ipxe",
        "undionly.kpxe",
    ]
    assert read(f"{root}/52-54-00-00-00-01.ipxe") == SCRIPT
    assert read(f"{root}/boot.ipxe") == config.BOOT_IPXE
    for name in os.listdir(root):  # dnsmasq reads them as another user
        assert stat.S_IMODE(os.stat(f"{root}/{name}").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o755
    # The bridge got its IPv6 prefix for router advertisements.
    assert [
        "ip",
        "-6",
        "addr",
        "add",
        config.ra_address(network),
        "dev",
        "br-abcd1234",
        "nodad",
    ] in commands

    # More scripts, a changed script, a script taken away: files only.
    d.add_reservation(network.id, node(2))
    d.add_reservation(network.id, node(1, SCRIPT + "echo v2\n"))
    d.add_reservation(network.id, node(2, None))
    assert len(FakeSupervisor.made) == 2 and second.signals == []
    assert fake_timer.made == []  # no reload, no release
    assert read(f"{root}/52-54-00-00-00-01.ipxe").endswith("echo v2\n")
    assert not os.path.exists(f"{root}/52-54-00-00-00-02.ipxe")
    assert d.network_status(network.id)["pxe"] is True

    d.remove_reservation(network.id, res(1).mac)
    assert sorted(os.listdir(root)) == ["boot.ipxe", "undionly.kpxe"]
    assert len(FakeSupervisor.made) == 2  # TFTP stays on


def test_without_undionly_only_ipxe_roms_boot(make_driver, network, config):
    config("undionly_path", "/nonexistent/undionly.kpxe", group="nsa")
    d = make_driver()
    d.ensure_network(network)
    d.add_reservation(network.id, node(1))
    args = FakeSupervisor.made[-1].args
    assert "--enable-tftp" in args
    assert not [a for a in args if a.startswith("--dhcp-boot=tag:!ipxe")]
    assert "undionly.kpxe" not in os.listdir(tftp(d, network))


def test_restart_serves_the_scripts_again(make_driver, network):
    d = make_driver()
    d.ensure_network(network)
    d.add_reservation(network.id, node(1))
    d.add_reservation(network.id, res(2))
    d.stop()
    FakeSupervisor.made = []
    again = make_driver()
    again.init_host()
    (sv,) = FakeSupervisor.made
    assert "--enable-tftp" in sv.args  # straight with TFTP
    got = {r.mac: r.boot_script for r in again.reservations(network.id)}
    assert got == {res(1).mac: SCRIPT, res(2).mac: None}


def test_sync_removes_scripts_nobody_holds(make_driver, network):
    d = make_driver()
    d.ensure_network(network)
    d.add_reservation(network.id, node(1))
    root = tftp(d, network)
    stray = os.path.join(root, "52-54-00-00-00-77.ipxe")
    with open(stray, "w") as f:
        f.write(SCRIPT)
    d.stop()
    again = make_driver()
    again.init_host()  # a script without a reservation: dropped
    assert not os.path.exists(stray)
    counts = again.sync(network, [res(1), node(3)])
    assert counts == {"written": 2, "dropped": 0}
    assert sorted(os.listdir(root)) == [
        "52-54-00-00-00-03.ipxe",
        "boot.ipxe",
        "undionly.kpxe",
    ]


def test_manager_passes_the_script(make_driver, network_msg):
    from arame.agents.nsa.manager import NSAManager

    d = make_driver()
    m = NSAManager(d)
    m.ensure_network({}, network_msg)
    out = m.add_reservation(
        {},
        network_msg["id"],
        "52:54:00:00:00:09",
        "10.20.0.9",
        "bm1",
        boot_script=SCRIPT,
    )
    assert out["boot_script"] == SCRIPT
    with pytest.raises(records.InvalidRecord):
        m.add_reservation(
            {},
            network_msg["id"],
            "52:54:00:00:00:09",
            "10.20.0.9",
            "bm1",
            boot_script="rm -rf /\n",
        )
