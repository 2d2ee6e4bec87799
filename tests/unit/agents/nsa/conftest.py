"""Fixtures of nsa's unit tests: checked records to start from, the [nsa]
options registered, a fake timer to close reload windows by hand, and the
dnsmasq driver's processes and plumbing replaced."""

from typing import ClassVar

import pytest

from arame.agents.nsa import records
from arame.agents.nsa import supervisor as sup
from arame.common.conf import CONF
from arame.common.conf import nsa as nsa_conf

NET_ID = "nw-abcd1234"
NETWORK_MSG = {
    "id": NET_ID,
    "cidr": "10.20.0.0/24",
    "gateway": "10.20.0.1",
    "dns_domain": "tenant.test",
    "dhcp_ranges": [["10.20.0.10", "10.20.0.200"]],
    "mtu": 1450,
    "bridge": "br-abcd1234",
}


@pytest.fixture
def nsa_conf_registered(parsed_conf):
    nsa_conf.register(CONF)
    return CONF


@pytest.fixture
def network_msg():
    return dict(NETWORK_MSG)


@pytest.fixture
def network():
    return records.parse_network(NETWORK_MSG)


def res(n: int, name: str | None = None, ip: int | None = None):
    return records.Reservation(
        mac=f"52:54:00:00:00:{n:02x}",
        ip=records.ipv4(f"10.20.0.{ip or 10 + n}"),
        hostname=name or f"host{n}",
    )


class FakeTimer:
    """threading.Timer's shape; fires only when the test says so."""

    made: ClassVar[list["FakeTimer"]] = []

    def __init__(self, delay, fn):
        self.delay, self.fn = delay, fn
        self.started = self.cancelled = False
        FakeTimer.made.append(self)

    def start(self):
        self.started = True

    def cancel(self):
        self.cancelled = True

    def fire(self):
        if not self.cancelled:
            self.fn()


@pytest.fixture
def fake_timer():
    FakeTimer.made = []
    return FakeTimer


class FakeSupervisor:
    """A dnsmasq the driver starts, signals and stops; `made` lists them."""

    made: ClassVar[list["FakeSupervisor"]] = []

    def __init__(self, name, args, **kw):
        self.name, self.args, self.kw = name, args, kw
        self.signals, self.running, self.restarts = [], False, 0
        FakeSupervisor.made.append(self)

    pid = property(lambda self: 4242 if self.running else None)

    def start(self):
        self.running = True

    def stop(self):
        self.running = False

    def signal(self, sig):
        self.signals.append(sig)
        return True


class FakePlumbing:
    def __init__(self):
        self.calls = []
        self.segments = []  # what each ensure was given
        self.segmented = []  # and each remove

    def ensure(self, bridge, address, mtu, netns, segment=None):
        self.calls.append(("ensure", bridge, address, mtu, netns))
        self.segments.append(segment)
        return True

    def remove(self, bridge, address, created, netns, segmented=False):
        self.calls.append(("remove", bridge, address, created, netns))
        self.segmented.append(segmented)


@pytest.fixture
def fake_supervisors(monkeypatch):
    FakeSupervisor.made = []
    monkeypatch.setattr(sup, "Supervisor", FakeSupervisor)
    return FakeSupervisor


def read(path):
    with open(path) as f:
        return f.read()
