"""Every hva operation asked twice gives the same answer and leaves the
same host (manager.py's rule): on the fake driver through the manager,
and on the libvirt driver where its answer depends on what libvirt says
(a domain defined meanwhile, one already running, one gone since the
lookup), over a fake connection."""

import contextlib
import os
import threading
import time
import types

import libvirt
import pytest

from arame.agents.hva.drivers import fake as fake_module
from arame.agents.hva.drivers.fake import FakeDriver
from arame.agents.hva.drivers.libvirt import driver as libvirt_module
from arame.agents.hva.manager import HypervisorManager
from tests.helpers.waiting import wait_until

IID = "i-abcd1234"
VID = "vol-abcd5678"
SG = "sg-abcd0001"
CTXT = {}


class Notifier:
    def info(self, ctxt, event_type, payload):
        pass


def spec(iid=IID):
    return {"id": iid, "name": "web-1", "hostname": "web-1"}


@pytest.fixture
def mgr(parsed_conf):
    return HypervisorManager("hv1", FakeDriver("hv1"), Notifier())


def console(mgr):
    return mgr.get_console_output(CTXT, IID)["output"]


def twice(op, *args):
    first, second = op(CTXT, *args), op(CTXT, *args)
    assert first == second
    return second


# -- the manager over the fake driver ------------------------------------
def test_spawn_twice_is_one_guest_booted_once(mgr):
    assert twice(mgr.spawn, spec()) == {"power_state": "running"}
    assert mgr.list_instances(CTXT) == {"instances": {IID: "running"}}
    assert console(mgr).count("booted") == 1


def test_spawn_of_a_guest_left_off_starts_it(mgr):
    mgr.spawn(CTXT, spec())
    mgr.power_off(CTXT, IID)
    assert mgr.spawn(CTXT, spec()) == {"power_state": "running"}
    assert mgr.list_instances(CTXT) == {"instances": {IID: "running"}}


def test_destroy_twice_and_of_a_guest_never_made(mgr):
    mgr.spawn(CTXT, spec())
    assert twice(mgr.destroy, IID) == {"power_state": None}
    assert mgr.destroy(CTXT, "i-ffff0000") == {"power_state": None}
    assert mgr.list_instances(CTXT) == {"instances": {}}


def test_power_on_of_a_running_guest_changes_nothing(mgr):
    mgr.spawn(CTXT, spec())
    before = console(mgr)
    assert twice(mgr.power_on, IID) == {"power_state": "running"}
    assert console(mgr) == before


def test_power_off_twice_stops_once(mgr):
    mgr.spawn(CTXT, spec())
    assert twice(mgr.power_off, IID) == {"power_state": "shutdown"}
    assert mgr.list_instances(CTXT) == {"instances": {IID: "shutdown"}}
    assert console(mgr).count("powered off") == 1


def test_reboot_twice_ends_running(mgr):
    mgr.spawn(CTXT, spec())
    mgr.power_off(CTXT, IID)
    assert twice(mgr.reboot, IID) == {"power_state": "running"}
    assert mgr.list_instances(CTXT) == {"instances": {IID: "running"}}


def test_attach_twice_answers_the_same_device(mgr):
    mgr.spawn(CTXT, spec())
    assert twice(mgr.attach_volume, IID, {"volume_id": VID}) == {
        "device": "vdc"
    }
    assert mgr.driver.volumes(IID) == {VID: "vdc"}


def test_detach_twice_and_from_a_missing_guest(mgr):
    mgr.spawn(CTXT, spec())
    mgr.attach_volume(CTXT, IID, {"volume_id": VID})
    assert twice(mgr.detach_volume, IID, VID) == {}
    assert mgr.driver.volumes(IID) == {}
    assert mgr.detach_volume(CTXT, "i-ffff0000", VID) == {}


def test_refresh_ports_and_group_members_twice(mgr):
    mgr.spawn(CTXT, spec())
    ports = [{"mac": "52:54:00:00:00:01", "ip": "10.0.0.5"}]
    assert twice(mgr.refresh_ports, IID, ports) == {"ports": 1}
    assert twice(mgr.update_group_members, SG, ["10.0.0.5"]) is None


def test_a_spawn_asked_again_while_the_first_boots(mgr, config, monkeypatch):
    """[fake_hva] spawn_delay: the second ask (a retry after a timeout)
    arrives while the first still sleeps; one guest, both told running."""
    config("spawn_delay", 0.3, group="fake_hva")
    sleeping = threading.Event()
    real_sleep = time.sleep

    def sleep(seconds):
        sleeping.set()
        real_sleep(seconds)

    # The fake driver's clock only: the test's own waits must not count.
    monkeypatch.setattr(
        fake_module, "time", types.SimpleNamespace(sleep=sleep)
    )
    answers = []

    def ask():
        answers.append(mgr.spawn(CTXT, spec()))

    first = threading.Thread(target=ask)
    first.start()
    wait_until(sleeping.is_set, timeout=5, what="the first spawn to sleep")
    second = threading.Thread(target=ask)
    second.start()
    first.join(10)
    second.join(10)
    assert answers == [{"power_state": "running"}] * 2
    assert mgr.list_instances(CTXT) == {"instances": {IID: "running"}}
    assert console(mgr).count("booted") == 1


def test_spawns_racing_in_the_driver_itself_make_one_guest(
    parsed_conf, config
):
    """Without the manager's lock (the driver's own promise)."""
    config("spawn_delay", 0.1, group="fake_hva")
    drv = FakeDriver("hv1")
    answers = []
    threads = [
        threading.Thread(target=lambda: answers.append(drv.spawn(spec())))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert answers == ["running"] * 3
    assert drv.list_instances() == {IID: "running"}
    assert drv.get_console_output(IID).count("booted") == 1


# -- the libvirt driver over a fake connection ----------------------------
def refused(code, message):
    err = libvirt.libvirtError(message)
    err.get_error_code = lambda: code
    return err


class FakeDomain:
    def __init__(self, conn, name):
        self.conn, self._name = conn, name
        self.active = False
        self.created = 0
        # Ways libvirt answers when something else got there first.
        self.started_behind_our_back = False
        self.gone_after_lookup = False

    def name(self):
        return self._name

    def isActive(self):
        if self.started_behind_our_back:
            self.started_behind_our_back = False
            self.active = True
            return False  # what the driver saw before it asked
        return self.active

    def state(self):
        return [
            libvirt.VIR_DOMAIN_RUNNING
            if self.active
            else libvirt.VIR_DOMAIN_SHUTOFF,
            0,
        ]

    def _check(self):
        if self.gone_after_lookup or self._name not in self.conn.domains:
            raise refused(libvirt.VIR_ERR_NO_DOMAIN, "domain not found")

    def XMLDesc(self, flags=0):
        self._check()
        return f"<domain><name>{self._name}</name></domain>"

    def create(self):
        if self.active:
            # qemu's refusal (the test driver says "internal error").
            raise refused(
                libvirt.VIR_ERR_OPERATION_INVALID,
                "Requested operation is not valid: domain is already running",
            )
        self.created += 1
        self.active = True

    def shutdown(self):
        self.active = False

    def destroy(self):
        self._check()
        if not self.active:
            raise refused(
                libvirt.VIR_ERR_OPERATION_INVALID, "domain is not running"
            )
        self.active = False

    def undefineFlags(self, flags):
        self._check()
        del self.conn.domains[self._name]


class FakeConn:
    def __init__(self):
        self.domains: dict[str, FakeDomain] = {}
        self.defined = 0
        # lookups that miss a domain defined meanwhile by another spawn
        self.stale_lookups = 0

    def isAlive(self):
        return True

    def lookupByName(self, name):
        if self.stale_lookups or name not in self.domains:
            self.stale_lookups = max(0, self.stale_lookups - 1)
            raise refused(libvirt.VIR_ERR_NO_DOMAIN, "domain not found")
        return self.domains[name]

    def defineXML(self, xml):
        if IID in self.domains:
            raise refused(
                libvirt.VIR_ERR_OPERATION_FAILED,
                f"operation failed: domain '{IID}' already exists with "
                f"uuid 6695eb01-f6a4-8304-79aa-97f2502e193f",
            )
        self.defined += 1
        self.domains[IID] = FakeDomain(self, IID)
        return self.domains[IID]

    def secretLookupByUUIDString(self, u):
        raise refused(libvirt.VIR_ERR_NO_SECRET, "no secret")

    def listAllSecrets(self):
        return []


class NoFirewall:
    def __init__(self):
        self.removed = []

    def remove_port(self, iid):
        self.removed.append(iid)


class Bridges:
    def __init__(self):
        self.released = []

    def network_lock(self, network_id):
        return contextlib.nullcontext()

    def release_network(self, network_id):
        self.released.append(network_id)


@pytest.fixture
def lv(config, tmp_path, monkeypatch):
    config("instances_path", str(tmp_path), group="libvirt")
    drv = libvirt_module.LibvirtDriver("hv1")
    drv._conn = FakeConn()
    drv._firewall = NoFirewall()
    drv._networking = Bridges()
    # What _define makes on the host (overlay, config drive, taps) is not
    # the point here: the domain's definition is.
    monkeypatch.setattr(
        drv, "_define", lambda inst: drv._define_xml(inst["id"], "<domain/>")
    )
    return drv


def test_libvirt_spawn_twice_defines_and_starts_once(lv):
    assert lv.spawn(spec()) == "running"
    assert lv.spawn(spec()) == "running"
    assert (lv.conn.defined, lv.conn.domains[IID].created) == (1, 1)


def test_libvirt_spawn_after_a_definition_meanwhile_uses_that_domain(lv):
    """The lookup missed it, defineXML says "already exists with uuid":
    the existing domain is the guest, started once."""
    lv.conn.defineXML("<domain/>")
    lv.conn.stale_lookups = 1
    assert lv.spawn(spec()) == "running"
    assert list(lv.conn.domains) == [IID]
    assert (lv.conn.defined, lv.conn.domains[IID].created) == (1, 1)


def test_libvirt_other_definition_failures_still_fail(lv):
    def broken(xml):
        raise refused(libvirt.VIR_ERR_XML_ERROR, "XML error: bad disk")

    lv.conn.defineXML = broken
    with pytest.raises(libvirt.libvirtError, match="bad disk"):
        lv.spawn(spec())


def test_libvirt_start_of_a_guest_started_meanwhile_is_success(lv):
    lv.spawn(spec())
    lv.power_off(IID)
    lv.conn.domains[IID].started_behind_our_back = True  # HA, autostart
    assert lv.power_on(IID) == "running"


def test_libvirt_power_off_twice(lv, config):
    config("shutdown_timeout", 1, group="libvirt")
    lv.spawn(spec())
    assert lv.power_off(IID) == "shutdown"
    assert lv.power_off(IID) == "shutdown"


def test_libvirt_destroy_twice_and_of_a_guest_gone_since_the_lookup(lv):
    lv.spawn(spec())
    lv.destroy(IID)
    lv.destroy(IID)
    assert lv.conn.domains == {}
    lv.spawn(spec())
    lv.conn.domains[IID].gone_after_lookup = True
    lv.destroy(IID)
    # Every destroy removed the guest's firewall chains, gone or not.
    assert lv.firewall.removed == [IID] * 3


def test_libvirt_destroy_after_one_cut_short_releases_the_networks(lv):
    """The domain is gone (undefined by a destroy, or never defined by a
    spawn, whose agent then died): what _define wrote down is released."""
    idir = lv._path(IID)
    os.makedirs(idir)
    with open(os.path.join(idir, "networks"), "w") as f:
        f.write("nw-abcd0001 ../etc\n")
    lv.destroy(IID)
    assert lv.networking.released == ["nw-abcd0001"]
    assert not os.path.exists(idir)
    lv.destroy(IID)
    assert lv.networking.released == ["nw-abcd0001"]
