"""Fixtures of nsa's unit tests: checked records to start from, the [nsa]
options registered, and a fake timer to close reload windows by hand."""

from typing import ClassVar

import pytest

from arame.agents.nsa import records
from arame.common.conf import CONF
from arame.common.conf import nsa as nsa_conf

NET_ID = "nw-abcd1234"
NETWORK_MSG = {"id": NET_ID, "cidr": "10.20.0.0/24", "gateway": "10.20.0.1",
               "dns_domain": "tenant.test", "dhcp_ranges": [["10.20.0.10",
                                                             "10.20.0.200"]],
               "mtu": 1450, "bridge": "br-abcd1234"}


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
    return records.Reservation(mac=f"52:54:00:00:00:{n:02x}",
                               ip=records.ipv4(f"10.20.0.{ip or 10 + n}"),
                               hostname=name or f"host{n}")


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
