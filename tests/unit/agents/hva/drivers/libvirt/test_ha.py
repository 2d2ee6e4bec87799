"""What the libvirt driver makes of a guest that stopped on its own
(ha.py): a power-off is a stop, a crash with HA off is reported, a crash
with HA on is restarted in place until the restart budget of the window is
spent, and a guest the driver stopped itself is left alone."""

import contextlib
import threading

import libvirt
import pytest

from arame.agents.hva.drivers.base import InstanceNotFound
from arame.agents.hva.drivers.libvirt import config as xmlconf
from arame.agents.hva.drivers.libvirt import ha

IID = "i-abcd0001"
CRASHED = libvirt.VIR_DOMAIN_EVENT_STOPPED_CRASHED


class FakeDomain:
    def __init__(self, ha_enabled: bool, fail_create: bool = False):
        self.active = False
        self.created = 0
        self.fail_create = fail_create
        self.ha_enabled = ha_enabled

    def name(self):
        return IID

    def isActive(self):
        return self.active

    def XMLDesc(self):
        ns = xmlconf.METADATA_NS
        return (
            f"<domain><name>{IID}</name><metadata>"
            f"<instance xmlns='{ns}'>"
            f"<ha_enabled>{int(self.ha_enabled)}</ha_enabled>"
            f"</instance></metadata></domain>"
        )

    def create(self):
        if self.fail_create:
            raise libvirt.libvirtError("no emulator")
        self.created += 1
        self.active = True


class FakeDriver:
    host = "hv1"

    def __init__(self, dom):
        self.dom = dom
        self.events: list[tuple] = []

    def instance_lock(self, iid):
        return contextlib.nullcontext()

    def _domain(self, iid):
        if self.dom is None:
            raise InstanceNotFound(iid)
        return self.dom

    def emit_event(self, iid, power_state, reason, **extra):
        self.events.append((iid, power_state, extra["event"]))


def watch(dom, wanted="on"):
    drv = FakeDriver(dom)
    desired = {IID: wanted}
    return drv, desired, ha.GuestWatch(drv, desired)


@pytest.fixture
def budget(config):
    config("ha_max_restarts", 2, group="libvirt")
    config("ha_restart_window", 600, group="libvirt")


def test_a_crash_with_ha_on_restarts_the_guest_in_place(budget):
    dom = FakeDomain(ha_enabled=True)
    drv, desired, w = watch(dom)
    w.guest_stopped(IID, CRASHED)
    assert dom.created == 1
    assert drv.events == [(IID, "running", "ha_restart")]
    assert desired[IID] == "on"


def test_restarts_stop_once_the_window_budget_is_spent(budget):
    dom = FakeDomain(ha_enabled=True)
    drv, desired, w = watch(dom)
    for _ in range(3):
        dom.active = False
        w.guest_stopped(IID, CRASHED)
    assert dom.created == 2
    assert drv.events[-1] == (IID, "crashed", "ha_gave_up")
    assert desired[IID] == "off"


def test_a_destroyed_guest_starts_with_a_fresh_budget(budget):
    dom = FakeDomain(ha_enabled=True)
    _drv, desired, w = watch(dom)
    for _ in range(2):
        dom.active = False
        w.guest_stopped(IID, CRASHED)
    w.forget(IID)
    dom.active = False
    w.guest_stopped(IID, CRASHED)
    assert dom.created == 3


@pytest.mark.parametrize(
    ("dom", "detail", "want"),
    [
        (
            FakeDomain(ha_enabled=True),
            libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN,
            (IID, "shutdown", "guest_shutdown"),
        ),
        (
            FakeDomain(ha_enabled=False),
            CRASHED,
            (IID, "crashed", "crashed"),
        ),
        (
            FakeDomain(ha_enabled=True, fail_create=True),
            CRASHED,
            (IID, "crashed", "ha_failed"),
        ),
    ],
    ids=["powered-itself-off", "ha-off", "restart-fails"],
)
def test_a_guest_left_stopped_is_reported_and_wanted_off(
    budget, dom, detail, want
):
    drv, desired, w = watch(dom)
    w.guest_stopped(IID, detail)
    assert drv.events == [want]
    assert desired[IID] == "off"


@pytest.mark.parametrize("wanted", ["off", None])
def test_a_guest_not_wanted_on_is_left_alone(budget, wanted):
    dom = FakeDomain(ha_enabled=True)
    drv, desired, w = watch(dom, wanted)
    w.guest_stopped(IID, CRASHED)
    assert (dom.created, drv.events) == (0, [])


def test_a_guest_gone_or_running_again_is_left_alone(budget):
    running = FakeDomain(ha_enabled=True)
    running.active = True
    for dom in (None, running):
        drv, _desired, w = watch(dom)
        w.guest_stopped(IID, CRASHED)
        assert drv.events == []


def test_the_event_thread_hands_stops_to_a_thread_of_their_own(
    budget, monkeypatch
):
    handled = []
    done = threading.Event()
    _drv, _desired, w = watch(FakeDomain(ha_enabled=True))

    def stopped(iid, detail):
        handled.append((iid, detail, threading.current_thread().name))
        done.set()

    monkeypatch.setattr(w, "guest_stopped", stopped)
    w.on_lifecycle(
        None, FakeDomain(True), libvirt.VIR_DOMAIN_EVENT_STARTED, 0, None
    )
    w.on_lifecycle(
        None, FakeDomain(True), libvirt.VIR_DOMAIN_EVENT_STOPPED, CRASHED, None
    )
    assert done.wait(10)
    assert handled == [(IID, CRASHED, f"hva-event-{IID}")]
