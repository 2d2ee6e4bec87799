"""refresh_host_ports (1.4): a group's members on one host refreshed as
one batch, through the proxy, the manager and the drivers."""

import pytest

from arame.agents.hva.drivers.base import InstanceNotFound
from arame.agents.hva.drivers.fake import FakeDriver
from arame.agents.hva.firewall import FakeFirewall
from arame.agents.hva.manager import HypervisorManager, InvalidIdentifier

A, B, GONE = "i-aaaa0001", "i-bbbb0002", "i-ffff0000"
CTXT = {}


SG = "sg-web00001"
RULES = [{"protocol": "tcp", "from_port": 80, "to_port": 80}]


def ports(n):
    return [
        {
            "mac": f"52:54:00:00:00:0{n}",
            "ip": f"10.0.0.{n}",
            "security_groups": [{"id": SG}],
            "group_members": [SG],
        }
    ]


def shared(members):
    return members, {SG: RULES}, {SG: ["10.0.0.1", "10.0.0.2"]}


class Notifier:
    def info(self, *a):
        pass


class Recording(FakeDriver):
    def __init__(self):
        super().__init__("hv1")
        self.refreshed = []

    def refresh_ports(self, instance_id, ports):
        self._guest(instance_id)
        self.refreshed.append((instance_id, ports))


@pytest.fixture
def mgr(parsed_conf):
    m = HypervisorManager("hv1", Recording(), Notifier())
    for iid in (A, B):
        m.spawn(CTXT, {"id": iid, "name": iid, "hostname": iid})
    return m


def test_the_manager_refreshes_every_member_and_answers_the_same(mgr):
    members = {A: ports(1), B: ports(2)}
    first = mgr.refresh_host_ports(CTXT, *shared(members))
    assert first == mgr.refresh_host_ports(CTXT, *shared(members))
    assert first == {"instances": 2, "ports": 2}
    assert [i for i, _ in mgr.driver.refreshed] == [A, B, A, B]
    # The driver gets refresh_ports' form: rules and members in each port.
    [port] = mgr.driver.refreshed[0][1]
    assert port["security_groups"] == [{"id": SG, "rules": RULES}]
    assert port["group_members"] == {SG: ["10.0.0.1", "10.0.0.2"]}


def test_a_group_s_revision_reaches_the_driver(mgr):
    members, groups, addresses = shared({A: ports(1)})
    members[A][0]["security_groups"][0]["revision"] = 7
    mgr.refresh_host_ports(CTXT, members, groups, addresses)
    [port] = mgr.driver.refreshed[0][1]
    assert port["security_groups"] == [
        {"id": SG, "rules": RULES, "revision": 7}
    ]


def test_a_missing_guest_fails_after_the_others(mgr):
    with pytest.raises(InstanceNotFound, match=GONE):
        mgr.refresh_host_ports(CTXT, *shared({GONE: ports(3), A: ports(1)}))
    assert [i for i, _ in mgr.driver.refreshed] == [A]


def test_bad_input_reaches_no_driver(mgr):
    with pytest.raises(InvalidIdentifier):
        mgr.refresh_host_ports(CTXT, *shared({"../x": ports(1)}))
    with pytest.raises(InvalidIdentifier):
        mgr.refresh_host_ports(CTXT, [A], {}, {})
    with pytest.raises(InvalidIdentifier, match=SG):  # rules not sent
        mgr.refresh_host_ports(CTXT, {A: ports(1)}, {}, {SG: []})
    with pytest.raises(InvalidIdentifier, match=SG):  # members not sent
        mgr.refresh_host_ports(CTXT, {A: ports(1)}, {SG: RULES}, {})
    with pytest.raises(InvalidIdentifier):
        mgr.refresh_host_ports(CTXT, {A: [{"group_members": [{}]}]}, {}, {})
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
    full = [{"mac": "52:54:00:00:00:02", "ip": "10.0.0.2"}]
    driver.refresh_host_ports({B: full, A: full})
    assert driver.firewall.batches == [[A, B]]
    assert driver.firewall.applied[A].device == "tapaaaa00010"
    with pytest.raises(InstanceNotFound, match=GONE):
        driver.refresh_host_ports({GONE: full, A: full})
    assert driver.firewall.batches[-1] == [A]


class RecordingClient:
    def __init__(self):
        self.prepared, self.called = [], []

    def prepare(self, **kw):
        self.prepared.append(kw)
        return self

    def can_send_version(self, version):
        return True

    def call(self, ctxt, method, **kw):
        self.called.append((method, kw))
        return {"instances": 1, "ports": 1}


def test_the_proxy_asks_at_version_1_4():
    from arame.agents.hva.rpcapi import HypervisorAPI

    api = object.__new__(HypervisorAPI)
    api.client = RecordingClient()
    members, groups, addresses = shared({A: ports(1)})
    api.refresh_host_ports({}, "hv1", members, groups, addresses, timeout=10)
    [prep] = api.client.prepared
    assert (prep["server"], prep["version"]) == ("hv1", "1.4")
    assert api.client.called == [
        (
            "refresh_host_ports",
            {"members": members, "groups": groups, "addresses": addresses},
        )
    ]
    assert HypervisorAPI.VERSION_CAP == "1.5"
