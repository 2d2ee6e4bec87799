"""One report per stop of a guest wanted on: its lifecycle event's (ha.py),
which knows the cause. The power sync sees the same stop; were it to report
it too, the two reports would race at the collector, and the record would
keep the reason of whichever came last (a flaky "power-state sync: ..."
instead of "...; HA is off")."""

import libvirt
import pytest

from arame.agents.hva.drivers.libvirt import config as xmlconf
from arame.agents.hva.drivers.libvirt import driver as libvirt_driver
from arame.agents.hva.drivers.libvirt import ha
from arame.agents.hva.manager import HypervisorManager

IID = "i-abcd0002"
DIED = libvirt.VIR_DOMAIN_EVENT_STOPPED_FAILED
INTERVAL = 60
RUNNING = {IID: {"status": "running", "power_state": "running"}}


class Domain:
    def __init__(self):
        self.active = True

    def name(self):
        return IID

    def isActive(self):
        return self.active

    def state(self):
        if self.active:
            return [libvirt.VIR_DOMAIN_RUNNING, 1]
        return [libvirt.VIR_DOMAIN_SHUTOFF, 0]

    def XMLDesc(self):
        ns = xmlconf.METADATA_NS
        return (
            f"<domain><name>{IID}</name><metadata>"
            f"<instance xmlns='{ns}'><host>hv1</host>"
            f"<ha_enabled>0</ha_enabled></instance>"
            f"</metadata></domain>"
        )

    def create(self):
        self.active = True


class Conn:
    def __init__(self, dom):
        self.dom = dom

    def isAlive(self):
        return True

    def listAllDomains(self):
        return [self.dom]

    def lookupByName(self, name):
        return self.dom


class Notifier:
    def __init__(self):
        self.sent = []

    def info(self, ctxt, event_type, payload):
        self.sent.append(payload)


class Collector:
    """The records as the collector holds them: it has not recorded
    anything the host sent yet."""

    def expected_instances(self, ctxt, host):
        return {"instances": RUNNING}


class Clock:
    now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def host(config, monkeypatch):
    config("power_sync_interval", INTERVAL, group="hva")
    clock = Clock()
    monkeypatch.setattr(ha.time, "monotonic", clock)
    dom = Domain()
    drv = libvirt_driver.LibvirtDriver("hv1")
    drv._conn = Conn(dom)
    drv._desired[IID] = "on"
    notifier = Notifier()
    mgr = HypervisorManager("hv1", drv, notifier)
    return mgr, drv, dom, notifier, clock


def reasons(notifier):
    return [(p["event"], p["reason"]) for p in notifier.sent]


def stop_event(drv, dom):
    """libvirt's stop event, as its thread delivers it; the handler
    thread it starts is run here instead."""
    drv.ha.on_lifecycle(
        None, dom, libvirt.VIR_DOMAIN_EVENT_STOPPED, DIED, None
    )


def test_a_sync_before_the_event_is_handled_leaves_the_stop_to_it(host):
    mgr, drv, dom, notifier, _clock = host
    dom.active = False  # the guest died; its event is not handled yet
    assert mgr.sync_power_states(Collector())["drift"] == []
    drv.ha.guest_stopped(IID, DIED)
    # The collector has not recorded the event yet: the sync still reads
    # a running record, and still leaves it.
    assert mgr.sync_power_states(Collector())["drift"] == []
    assert reasons(notifier) == [("crashed", "the emulator died; HA is off")]


class _Now:
    """A thread that runs its target when started, in the caller."""

    def __init__(self, target, args):
        self.target, self.args = target, args

    def start(self):
        self.target(*self.args)


def test_a_sync_after_the_event_was_sent_leaves_the_stop_to_it(
    host, monkeypatch
):
    mgr, drv, dom, notifier, _clock = host
    monkeypatch.setattr(
        ha.threading, "Thread", lambda target, args, **kw: _Now(target, args)
    )
    dom.active = False
    stop_event(drv, dom)
    assert drv._desired[IID] == "off"
    assert mgr.sync_power_states(Collector())["drift"] == []
    assert [e for e, _ in reasons(notifier)] == ["crashed"]


def test_a_stop_whose_event_never_came_is_reported_by_the_next_sync(host):
    mgr, _drv, dom, notifier, clock = host
    dom.active = False  # libvirt's connection dropped: no event
    assert mgr.sync_power_states(Collector())["drift"] == []
    clock.now += INTERVAL
    for _ in range(2):  # every sync while the record disagrees
        assert mgr.sync_power_states(Collector())["drift"] == [IID]
    assert [e for e, _ in reasons(notifier)] == ["drift", "drift"]
    assert reasons(notifier)[0][1].startswith("power-state sync: ")


def test_a_start_ends_the_stop_the_next_one_is_left_to_its_event(host):
    mgr, drv, dom, notifier, clock = host
    dom.active = False
    assert mgr.sync_power_states(Collector())["drift"] == []
    drv.ha.guest_stopped(IID, DIED)
    clock.now += 10 * INTERVAL
    drv.power_on(IID)  # the user starts it again ...
    drv.ha.on_lifecycle(None, dom, libvirt.VIR_DOMAIN_EVENT_STARTED, 0, None)
    dom.active = False  # ... and it dies again
    assert mgr.sync_power_states(Collector())["drift"] == []
    assert [e for e, _ in reasons(notifier)] == ["crashed"]


def test_a_guest_the_driver_stopped_is_compared_as_ever(host):
    mgr, drv, dom, notifier, _clock = host
    drv._desired[IID] = "off"  # stopped by us, the record lagging
    dom.active = False
    assert mgr.sync_power_states(Collector())["drift"] == [IID]


class Gone(Domain):
    """Undefined between the listing and the read of its state."""

    def state(self):
        e = libvirt.libvirtError("Domain not found")
        e.err = (libvirt.VIR_ERR_NO_DOMAIN, 0, "Domain not found", 0)
        raise e


def test_a_guest_undefined_while_the_sync_lists_them_is_left_out(host):
    _, drv, _, _, _ = host
    drv._conn = Conn(Gone())
    assert drv.list_instances() == {}
