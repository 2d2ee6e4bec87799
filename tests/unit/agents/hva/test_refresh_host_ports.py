"""refresh_host_ports (1.4): a group's members on one host refreshed as
one batch, through the proxy, the manager and the drivers."""

import pytest

from arame.agents.hva.drivers.base import InstanceNotFound
from arame.agents.hva.drivers.fake import FakeDriver
from arame.agents.hva.firewall import FakeFirewall
from arame.agents.hva.manager import HypervisorManager, InvalidIdentifier

A, B, GONE = "i-aaaa0001", "i-bbbb0002", "i-ffff0000"
CTXT = {}


def ports(n):
    return [{"mac": f"52:54:00:00:00:0{n}", "ip": f"10.0.0.{n}"}]


class Notifier:
    def info(self, *a):
        pass


class Recording(FakeDriver):
    def __init__(self):
        super().__init__("hv1")
        self.refreshed = []

    def refresh_ports(self, instance_id, ports):
        self._guest(instance_id)
        self.refreshed.append(instance_id)


@pytest.fixture
def mgr(parsed_conf):
    m = HypervisorManager("hv1", Recording(), Notifier())
    for iid in (A, B):
        m.spawn(CTXT, {"id": iid, "name": iid, "hostname": iid})
    return m


def test_the_manager_refreshes_every_member_and_answers_the_same(mgr):
    members = {A: ports(1), B: ports(2)}
    first = mgr.refresh_host_ports(CTXT, members)
    assert first == mgr.refresh_host_ports(CTXT, members)
    assert first == {"instances": 2, "ports": 2}
    assert mgr.driver.refreshed == [A, B, A, B]


def test_a_missing_guest_fails_after_the_others(mgr):
    with pytest.raises(InstanceNotFound, match=GONE):
        mgr.refresh_host_ports(CTXT, {GONE: ports(3), A: ports(1)})
    assert mgr.driver.refreshed == [A]


def test_bad_input_reaches_no_driver(mgr):
    with pytest.raises(InvalidIdentifier):
        mgr.refresh_host_ports(CTXT, {"../x": ports(1)})
    with pytest.raises(InvalidIdentifier):
        mgr.refresh_host_ports(CTXT, [A])
    assert mgr.driver.refreshed == []


class BatchFirewall(FakeFirewall):
    def __init__(self):
        super().__init__()
        self.batches = []

    def apply_ports(self, ports):
        self.batches.append([p["instance_id"] for p in ports])
        super().apply_ports(ports)


class Taps:
    def tap_name(self, iid, index):
        return f"tap{iid[2:]}{index}"


def test_libvirt_applies_the_members_as_one_batch(monkeypatch):
    from arame.agents.hva.drivers.libvirt.driver import LibvirtDriver

    driver = object.__new__(LibvirtDriver)
    driver._firewall, driver._networking = BatchFirewall(), Taps()

    def domain(iid):
        if iid == GONE:
            raise InstanceNotFound(iid)
        return object()

    monkeypatch.setattr(driver, "_domain", domain, raising=False)
    driver.refresh_host_ports({B: ports(2), A: ports(1)})
    assert driver.firewall.batches == [[A, B]]
    assert driver.firewall.applied[A].device == "tapaaaa00010"
    with pytest.raises(InstanceNotFound, match=GONE):
        driver.refresh_host_ports({GONE: ports(3), A: ports(1)})
    assert driver.firewall.batches[-1] == [A]


class RecordingClient:
    def __init__(self):
        self.prepared, self.called = [], []

    def prepare(self, **kw):
        self.prepared.append(kw)
        return self

    def call(self, ctxt, method, **kw):
        self.called.append((method, kw))
        return {"instances": 1, "ports": 1}


def test_the_proxy_asks_at_version_1_4():
    from arame.agents.hva.rpcapi import HypervisorAPI

    api = object.__new__(HypervisorAPI)
    api.client = RecordingClient()
    api.refresh_host_ports({}, "hv1", {A: ports(1)}, timeout=10)
    [prep] = api.client.prepared
    assert (prep["server"], prep["version"]) == ("hv1", "1.4")
    assert api.client.called == [
        ("refresh_host_ports", {"members": {A: ports(1)}})
    ]
    assert HypervisorAPI.VERSION_CAP == "1.4"
