"""The dnsmasq driver's files and signals, with dnsmasq, the plumbing and
the clock replaced: what is written where, and when a SIGHUP goes out.
(tests/integration/nsa/ runs it against the real dnsmasq.)"""

import os
import signal

import pytest

from arame.agents.nsa.drivers import dnsmasq as dnsmasq_driver
from arame.agents.nsa.drivers.base import NetworkNotFound
from arame.agents.nsa.drivers.dnsmasq import DnsmasqDriver

from ..conftest import FakePlumbing, FakeSupervisor, read, res


@pytest.fixture
def driver(
    nsa_conf_registered, tmp_path, fake_timer, fake_supervisors, monkeypatch
):
    released = []
    monkeypatch.setattr(
        dnsmasq_driver.runner,
        "run",
        lambda args, **kw: released.append((args, kw)),
    )
    d = DnsmasqDriver(str(tmp_path), "labns", timer=fake_timer)
    d.plumbing = FakePlumbing()
    d.released = released
    return d


def listing(d, nid):
    root = os.path.join(d.state_path, nid)
    return {
        sub: sorted(os.listdir(os.path.join(root, sub)))
        for sub in ("dhcp-hosts.d", "hosts.d")
    }


def test_ensure_network_plumbs_and_starts_dnsmasq(driver, network):
    driver.ensure_network(network)
    assert driver.plumbing.calls == [
        ("ensure", "br-abcd1234", "10.20.0.1/24", 1450, "labns")
    ]
    (s,) = FakeSupervisor.made
    assert s.running and s.kw["netns"] == "labns"
    assert "--interface=br-abcd1234" in s.args
    driver.ensure_network(network)  # idempotent: nothing restarted
    assert len(FakeSupervisor.made) == 1
    assert driver.network_status(network.id)["running"] is True


def test_add_writes_one_file_per_host_and_sends_no_signal(
    driver, network, fake_timer
):
    driver.ensure_network(network)
    driver.add_reservation(network.id, res(1))
    driver.add_reservation(network.id, res(1))  # the same add twice
    root = os.path.join(driver.state_path, network.id)
    assert listing(driver, network.id) == {
        "dhcp-hosts.d": ["52-54-00-00-00-01"],
        "hosts.d": ["52-54-00-00-00-01"],
    }
    assert read(f"{root}/dhcp-hosts.d/52-54-00-00-00-01") == (
        "52:54:00:00:00:01,10.20.0.11,host1\n"
    )
    assert read(f"{root}/hosts.d/52-54-00-00-00-01") == (
        "10.20.0.11 host1.tenant.test host1\n"
    )
    assert os.listdir(f"{root}/tmp") == []  # no temporary file left
    assert fake_timer.made == [] and FakeSupervisor.made[0].signals == []


def test_removals_in_one_window_share_one_sighup(driver, network, fake_timer):
    driver.ensure_network(network)
    for n in range(1, 6):
        driver.add_reservation(network.id, res(n))
    for n in range(1, 4):
        driver.remove_reservation(network.id, res(n).mac)
    sv = FakeSupervisor.made[0]
    assert len(fake_timer.made) == 1 and sv.signals == []
    assert listing(driver, network.id)["dhcp-hosts.d"] == [
        "52-54-00-00-00-04",
        "52-54-00-00-00-05",
    ]
    fake_timer.made[0].fire()
    assert sv.signals == [signal.SIGHUP]
    # Folded: the base files hold everything, the watched dirs nothing.
    root = os.path.join(driver.state_path, network.id)
    assert read(f"{root}/dhcp-hosts").splitlines() == [
        "52:54:00:00:00:04,10.20.0.14,host4",
        "52:54:00:00:00:05,10.20.0.15,host5",
    ]
    assert read(f"{root}/hosts").splitlines() == [
        "10.20.0.14 host4.tenant.test host4",
        "10.20.0.15 host5.tenant.test host5",
    ]
    assert listing(driver, network.id) == {"dhcp-hosts.d": [], "hosts.d": []}


def test_rename_rewrites_and_reloads(driver, network, fake_timer):
    driver.ensure_network(network)
    driver.add_reservation(network.id, res(1))
    driver.add_reservation(network.id, res(1, name="renamed", ip=50))
    root = os.path.join(driver.state_path, network.id)
    assert read(f"{root}/hosts.d/52-54-00-00-00-01") == (
        "10.20.0.50 renamed.tenant.test renamed\n"
    )
    fake_timer.made[0].fire()
    assert FakeSupervisor.made[0].signals == [signal.SIGHUP]
    assert (
        read(f"{root}/dhcp-hosts") == "52:54:00:00:00:01,10.20.0.50,renamed\n"
    )


def test_removal_releases_the_lease(driver, network, fake_timer):
    driver.ensure_network(network)
    driver.add_reservation(network.id, res(1))
    driver.add_reservation(network.id, res(2))
    root = os.path.join(driver.state_path, network.id)
    with open(f"{root}/leases", "w") as f:
        f.write(
            "1795255026 52:54:00:00:00:01 10.20.0.11 host1 01:52:54:00:00:00:01\n"
            "1795255026 52:54:00:00:00:02 10.20.0.12 host2 *\n"
        )
    driver.remove_reservation(network.id, res(1).mac)
    driver.remove_reservation(network.id, res(2).mac)
    driver.remove_reservation(network.id, res(3).mac)  # never there
    assert driver.released == []  # batched with the reload
    fake_timer.made[0].fire()
    assert [a for a, _ in driver.released] == [
        [
            "dhcp_release",
            "br-abcd1234",
            "10.20.0.11",
            "52:54:00:00:00:01",
            "01:52:54:00:00:00:01",
        ],
        ["dhcp_release", "br-abcd1234", "10.20.0.12", "52:54:00:00:00:02"],
    ]
    assert all(kw["netns"] == "labns" for _, kw in driver.released)


def test_sync_drops_stale_and_writes_missing(driver, network, fake_timer):
    driver.ensure_network(network)
    for n in (1, 2, 3):
        driver.add_reservation(network.id, res(n))
    counts = driver.sync(network, [res(2), res(4)])
    assert counts == {"written": 1, "dropped": 2}
    assert listing(driver, network.id)["dhcp-hosts.d"] == [
        "52-54-00-00-00-02",
        "52-54-00-00-00-04",
    ]
    fake_timer.made[0].fire()
    assert sorted(r.hostname for r in driver.reservations(network.id)) == [
        "host2",
        "host4",
    ]


def test_bulk_sync_is_folded_not_written_file_by_file(
    driver, network, fake_timer
):
    driver.ensure_network(network)
    many = [res(n, ip=10 + n) for n in range(1, 100)]
    driver.sync(network, many)
    assert listing(driver, network.id)["dhcp-hosts.d"] == []
    fake_timer.made[0].fire()
    root = os.path.join(driver.state_path, network.id)
    assert len(read(f"{root}/dhcp-hosts").splitlines()) == 99


def test_restart_serves_again_what_the_state_directory_holds(
    driver, network, tmp_path, fake_timer
):
    driver.ensure_network(network)
    driver.add_reservation(network.id, res(1))
    driver.add_reservation(network.id, res(2))
    driver.stop()
    again = DnsmasqDriver(str(tmp_path), "labns", timer=fake_timer)
    again.plumbing = FakePlumbing()
    again.init_host()
    assert list(again.networks()) == [network.id]
    assert sorted(r.hostname for r in again.reservations(network.id)) == [
        "host1",
        "host2",
    ]
    assert FakeSupervisor.made[-1].running


def test_changed_settings_restart_and_keep_what_fits(
    driver, network_msg, network
):
    from arame.agents.nsa import records

    driver.ensure_network(network)
    driver.add_reservation(network.id, res(1))
    changed = records.parse_network(dict(network_msg, mtu=1400))
    driver.ensure_network(changed)
    first, second = FakeSupervisor.made
    assert not first.running and second.running
    assert "--dhcp-option=tag:nw-abcd1234,option:mtu,1400" in second.args
    assert driver.reservations(network.id) == [res(1)]


def test_remove_network(driver, network):
    driver.ensure_network(network)
    driver.add_reservation(network.id, res(1))
    driver.remove_network(network.id)
    assert not FakeSupervisor.made[0].running
    assert driver.plumbing.calls[-1] == (
        "remove",
        "br-abcd1234",
        "10.20.0.1/24",
        True,
        "labns",
    )
    assert not os.path.exists(os.path.join(driver.state_path, network.id))
    driver.remove_network(network.id)  # idempotent
    with pytest.raises(NetworkNotFound):
        driver.add_reservation(network.id, res(1))


def test_refused_input_writes_nothing(driver, network_msg, network):
    from arame.agents.nsa.manager import NSAManager
    from arame.agents.nsa.records import InvalidRecord

    mgr = NSAManager(driver)
    mgr.ensure_network({}, network_msg)
    root = os.path.join(driver.state_path, network.id)

    def snapshot():
        return {d: sorted(files) for d, _, files in os.walk(root)}

    before = snapshot()
    for args in (
        ("52:54:00:00:00:01", "10.20.0.5", "bad name"),
        ("52:54:00:00:00:01", "10.21.0.5", "ok"),
        ("52:54:00:00:00:0g", "10.20.0.5", "ok"),
        ("52:54:00:00:00:01", "10.20.0.5", "x\n10.20.0.9 evil"),
    ):
        with pytest.raises(InvalidRecord):
            mgr.add_reservation({}, network.id, *args)
    with pytest.raises(InvalidRecord):
        mgr.sync(
            {},
            network_msg,
            [
                {
                    "mac": "52:54:00:00:00:01",
                    "ip": "10.20.0.5",
                    "hostname": "-x",
                }
            ],
        )
    with pytest.raises(InvalidRecord):
        mgr.ensure_network({}, dict(network_msg, id="nw-../../x"))
    assert snapshot() == before
    assert FakeSupervisor.made[0].signals == []


def test_a_segmented_network_is_plumbed_with_its_segment_also_after_restart(
    driver, network_msg, tmp_path, fake_timer
):
    from arame.agents.nsa import records

    net = records.parse_network(
        dict(
            network_msg,
            bridge="nw-abcd1234",
            segmentation="vxlan",
            segment_id=1001,
        )
    )
    driver.ensure_network(net)
    segment = {
        "id": "nw-abcd1234",
        "segmentation": "vxlan",
        "segment_id": 1001,
        "mtu": 1450,
    }
    assert driver.plumbing.segments == [segment]
    driver.stop()
    again = DnsmasqDriver(str(tmp_path), "labns", timer=fake_timer)
    again.plumbing = FakePlumbing()
    again.init_host()
    assert again.plumbing.segments == [segment]
    again.remove_network(net.id)
    assert again.plumbing.segmented == [True]


def test_a_segment_new_to_a_served_network_is_plumbed_without_a_restart(
    driver, network_msg
):
    from arame.agents.nsa import records

    old = records.parse_network(dict(network_msg, bridge="nw-abcd1234"))
    driver.ensure_network(old)  # from a controller that sends no segment
    new = records.parse_network(
        dict(
            network_msg,
            bridge="nw-abcd1234",
            segmentation="vxlan",
            segment_id=7,
        )
    )
    driver.ensure_network(new)
    (s,) = FakeSupervisor.made
    assert s.running
    assert [seg and seg["segment_id"] for seg in driver.plumbing.segments] == [
        None,
        7,
    ]
    assert driver.networks()[new.id] == new
