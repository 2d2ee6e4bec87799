"""Router tasks: the flow places a router on the up L3 host with the
fewest routers, applies its whole state there and lands it active; no
host up, or the agent refusing, leaves it `error` with the reason; a
delete removes it from its host and its records; a task whose scheduler
died is adopted and simply applied again."""

import datetime as dt

import oslo_messaging as messaging
import pytest
import sqlalchemy as sa

from arame.agents.l3.drivers.base import InvalidRouter
from arame.agents.l3.drivers.fake import FakeRouterDriver
from arame.agents.l3.manager import L3Manager
from arame.common import ids, tasks
from arame.common.db import engine, models
from arame.scheduler.flows import routers as router_flows
from arame.scheduler.flows.routers import DeleteRouterFlow, SyncRouterFlow
from arame.scheduler.manager import SchedulerManager
from arame.scheduler.sweeper import Sweeper
from tests.unit.agents.l3.test_manager import router_msg
from tests.unit.common.test_ipam import make_network

from .conftest import RecordingProxy
from .test_leases import Died, lapse, run_found, task_row


class FakeL3(RecordingProxy):
    """A real L3 manager over the in-memory driver per host."""

    expected = (InvalidRouter,)

    def __init__(self):
        super().__init__()
        self.hosts: dict[str, L3Manager] = {}

    def manager_for(self, where):
        if where not in self.hosts:
            self.hosts[where] = L3Manager(FakeRouterDriver())
        return self.hosts[where]

    def routers(self, host) -> set[str]:
        return self.manager_for(host).driver.routers()


@pytest.fixture
def l3():
    return FakeL3()


@pytest.fixture
def messages(monkeypatch):
    """routing.router_message stood in for: the test's message for every
    router still recorded (`bad` ids get one the agent refuses)."""
    bad: set[str] = set()

    def message(s, rid):
        if s.get(models.Router, rid) is None:
            return None
        msg = router_msg(rid)
        if rid in bad:
            msg["interfaces"] = "nope"
        return msg

    monkeypatch.setattr(router_flows.routing, "router_message", message)
    return bad


def add_l3(name: str, *, up: bool = True) -> None:
    at = models.utcnow() - dt.timedelta(seconds=0 if up else 3600)
    with engine.session() as s:
        s.add(
            models.Service(
                host=name,
                binary="arame-l3",
                topic="l3",
                version="t",
                last_heartbeat_at=at,
            )
        )


def add_router(
    action="create", *, host=None, status="building", name=None
) -> tuple[str, str]:
    """A router row and its task, as the API writes them."""
    rid = ids.generate("router")
    with engine.session() as s:
        s.add(
            models.Router(
                id=rid,
                account_id="a-admin",
                name=name or rid,
                host=host,
                status=status,
            )
        )
        tid = tasks.create(
            s,
            account_id="a-admin",
            resource_id=rid,
            resource_type="router",
            action=action,
            timeout_s=600,
        ).id
    return rid, tid


def row(model, key):
    with engine.session() as s:
        r = s.get(model, key)
        if r is not None:
            s.expunge(r)
        return r


def run(flow_cls, rid, tid, l3, ctxt):
    flow_cls(ctxt, tid, rid, l3).run()
    return task_row(tid)


def test_create_places_on_the_least_loaded_host_and_applies(
    cloud, sched_conf, l3, messages, ctxt
):
    add_l3("net1")
    add_l3("net2")
    add_l3("net3", up=False)
    add_router(host="net1", status="active", name="old")
    rid, tid = add_router()
    t = run(SyncRouterFlow, rid, tid, l3, ctxt)
    assert t.status == "done"
    r = row(models.Router, rid)
    assert (r.host, r.status, r.error) == ("net2", "active", None)
    assert l3.routers("net2") == {rid}
    assert [(e.step, e.status, e.host) for e in t.events] == [
        ("schedule", "done", "net2"),
        ("apply", "done", "net2"),
    ]


def test_update_applies_on_its_host_again(
    cloud, sched_conf, l3, messages, ctxt
):
    add_l3("net1")
    add_l3("net2")
    rid, tid = add_router("update", host="net2", status="error")
    assert run(SyncRouterFlow, rid, tid, l3, ctxt).status == "done"
    assert row(models.Router, rid).status == "active"
    assert l3.calls == [("apply_router", "net2")]


def test_no_l3_agent_up_fails_and_marks_the_router_error(
    cloud, sched_conf, l3, messages, ctxt
):
    add_l3("net1", up=False)
    rid, tid = add_router()
    t = run(SyncRouterFlow, rid, tid, l3, ctxt)
    assert (t.status, t.error_step) == ("failed", "schedule")
    assert "no L3 agent is up" in t.error_message
    r = row(models.Router, rid)
    assert (r.status, r.host) == ("error", None)
    assert "no L3 agent is up" in r.error
    assert l3.calls == []


def test_a_refused_router_is_error_with_the_agents_reason(
    cloud, sched_conf, l3, messages, ctxt
):
    add_l3("net1")
    rid, tid = add_router()
    messages.add(rid)
    t = run(SyncRouterFlow, rid, tid, l3, ctxt)
    assert (t.status, t.error_step) == ("failed", "apply")
    r = row(models.Router, rid)
    assert r.status == "error"
    assert "InvalidRouter" in r.error and "interfaces" in r.error


def test_a_sync_overtaken_by_a_delete_does_nothing(
    cloud, sched_conf, l3, messages, ctxt
):
    add_l3("net1")
    rid, tid = add_router("update", host="net1", status="deleting")
    assert run(SyncRouterFlow, rid, tid, l3, ctxt).status == "done"
    assert l3.calls == []
    assert row(models.Router, rid).status == "deleting"


def _external_rows(rid):
    """The router's external address and one floating IP through it."""
    with engine.session() as s:
        net = models.Network(
            id="nw-extern01",
            name="public",
            account_id="a-admin",
            cidr="203.0.113.0/24",
            gateway="203.0.113.1",
            dns_domain="public.test",
            dhcp_ranges=[["203.0.113.10", "203.0.113.200"]],
            segmentation="flat",
            mtu=1500,
            external=True,
            physical_network="public",
        )
        s.add(net)
        s.flush()
        s.add_all(
            [
                models.FloatingIp(
                    id=rid,
                    network_id=net.id,
                    address="203.0.113.10",
                    account_id="a-admin",
                    kind="gateway",
                    router_id=rid,
                ),
                models.FloatingIp(
                    id="fip-abcd1234",
                    network_id=net.id,
                    address="203.0.113.20",
                    account_id="a-admin",
                    kind="floating",
                    router_id=rid,
                    instance_id="i-abcd1234",
                    fixed_address="10.0.0.5",
                ),
            ]
        )


def test_delete_removes_from_the_host_then_the_records(
    cloud, sched_conf, l3, messages, ctxt
):
    add_l3("net1")
    rid, tid = add_router(host="net1")
    run(SyncRouterFlow, rid, tid, l3, ctxt)
    _external_rows(rid)
    with engine.session() as s:
        s.execute(
            sa.update(models.Router)
            .where(models.Router.id == rid)
            .values(status="deleting")
        )
        tid = tasks.create(
            s,
            account_id="a-admin",
            resource_id=rid,
            resource_type="router",
            action="delete",
            timeout_s=600,
        ).id
    assert run(DeleteRouterFlow, rid, tid, l3, ctxt).status == "done"
    assert l3.routers("net1") == set()
    assert row(models.Router, rid) is None
    assert row(models.FloatingIp, rid) is None  # back to the pool
    fip = row(models.FloatingIp, "fip-abcd1234")  # still allocated
    assert (fip.router_id, fip.instance_id, fip.fixed_address) == (
        None,
        None,
        None,
    )


def test_delete_on_a_host_that_is_down_leaves_it_to_the_resync(
    cloud, sched_conf, l3, messages, ctxt
):
    add_l3("net1", up=False)
    rid, tid = add_router("delete", host="net1", status="deleting")
    # The agent never answers; the host is down: not waited for.
    l3.fail["remove_router"] = messaging.MessagingTimeout("quiet")
    t = run(DeleteRouterFlow, rid, tid, l3, ctxt)
    assert t.status == "done"
    assert any(
        "removes the router when it returns" in (e.message or "")
        for e in t.events
    )
    assert row(models.Router, rid) is None


@pytest.fixture
def scheduler(cloud, sched_conf, l3):
    def make():
        m = SchedulerManager(
            selector=object(),
            hva=object(),
            nsa=object(),
            sta=object(),
            bma=object(),
            l3=l3,
        )
        return m, Sweeper(m, workers=1)

    return make


def test_a_router_task_outlives_its_scheduler(scheduler, l3, messages, ctxt):
    add_l3("net1")
    rid, tid = add_router()
    first, _ = scheduler()
    mgr = l3.manager_for("net1")
    real = mgr.apply_router

    def dying(*a, **kw):
        mgr.apply_router = real
        real(*a, **kw)
        raise Died()

    mgr.apply_router = dying
    with pytest.raises(Died):
        first.sync_router(ctxt, tid, rid)
    t = task_row(tid)
    assert (t.status, t.step) == ("running", "apply")
    assert row(models.Router, rid).host == "net1"

    lapse(tid)
    second, sweep = scheduler()
    assert [(x.id, a) for x, a in run_found(sweep)] == [(tid, True)]
    assert task_row(tid).status == "done"
    assert row(models.Router, rid).status == "active"
    assert l3.routers("net1") == {rid}
    assert l3.methods() == ["apply_router", "apply_router"]


def test_an_adopted_delete_runs_again(scheduler, l3, messages, ctxt):
    add_l3("net1")
    rid, tid = add_router("delete", host="net1", status="deleting")
    l3.manager_for("net1").apply_router({}, router_msg(rid))
    first, _ = scheduler()
    mgr = l3.manager_for("net1")
    real = mgr.remove_router

    def dying(*a, **kw):
        mgr.remove_router = real
        real(*a, **kw)
        raise Died()

    mgr.remove_router = dying
    with pytest.raises(Died):
        first.delete_router(ctxt, tid, rid)
    lapse(tid)
    second, sweep = scheduler()
    run_found(sweep)
    assert task_row(tid).status == "done"
    assert row(models.Router, rid) is None
    assert l3.methods() == ["remove_router", "remove_router"]


def associate(iid):
    """fip-abcd1234 forwards to a port of instance `iid`."""
    with engine.session() as s:
        port = models.Port(
            network_id="nw-extern01",
            instance_id=iid,
            ip_address="10.0.0.5",
            mac_address="52:54:00:00:00:05",
            hostname="guest",
        )
        s.add(port)
        s.flush()
        s.execute(
            sa.update(models.FloatingIp)
            .where(models.FloatingIp.id == "fip-abcd1234")
            .values(instance_id=iid, port_id=port.id)
        )


def test_deleting_an_instance_lets_go_of_its_floating_ips(
    cloud, sched_conf, l3, messages, ctxt, hva, add_host, add_instance
):
    from arame.scheduler.flows.delete import DeleteFlow

    add_l3("net1")
    rid, tid = add_router(host="net1")
    run(SyncRouterFlow, rid, tid, l3, ctxt)
    _external_rows(rid)
    add_host("hv1", vcpus_used=1, memory_mb_used=512, disk_gb_used=5)
    iid, dtid = add_instance(
        status="shuttingdown", host="hv1", claimed=True, action="delete"
    )
    associate(iid)
    l3.calls.clear()
    DeleteFlow(ctxt, dtid, iid, hva, l3=l3).run()
    assert task_row(dtid).status == "done"
    fip = row(models.FloatingIp, "fip-abcd1234")
    assert fip is not None  # still the account's
    assert (fip.router_id, fip.instance_id, fip.fixed_address) == (
        None,
        None,
        None,
    )
    assert row(models.FloatingIp, rid).router_id == rid  # the gateway's
    # Its router applied again, as recorded now.
    assert l3.calls == [("apply_router", "net1")]


def test_a_router_that_cannot_be_reapplied_does_not_fail_the_delete(
    cloud, sched_conf, l3, messages, ctxt, hva, add_host, add_instance
):
    from arame.scheduler.flows.delete import DeleteFlow

    add_l3("net1")
    rid, tid = add_router(host="net1")
    _external_rows(rid)
    add_host("hv1", vcpus_used=1, memory_mb_used=512, disk_gb_used=5)
    iid, dtid = add_instance(
        status="shuttingdown", host="hv1", claimed=True, action="delete"
    )
    associate(iid)
    l3.fail["apply_router"] = messaging.MessagingTimeout("quiet")
    DeleteFlow(ctxt, dtid, iid, hva, l3=l3).run()
    assert task_row(dtid).status == "done"
    assert row(models.FloatingIp, "fip-abcd1234").router_id is None


def test_an_adopted_disassociation_applies_the_accounts_routers(
    scheduler, l3, ctxt, add_instance
):
    """The API cleared the association (and with it which router carried
    it) and made a floating IP's task; its scheduler died as the router
    applied. The adopting scheduler cannot read the router from the
    floating IP: it applies every router of the account on that external
    network, and the mapping is gone from the host."""
    from arame.common import routing
    from tests.unit.collector.test_expected_routers import network, router

    add_l3("net1")
    iid, _ = add_instance(status="running")
    rid = "rt-here0001"
    with engine.session() as s:
        network(
            s,
            "nw-extern01",
            "203.0.113.0/24",
            "203.0.113.1",
            segmentation="flat",
            mtu=1500,
            external=True,
            physical_network="public",
        )
        network(
            s,
            "nw-tenant01",
            "10.0.0.0/24",
            "10.0.0.1",
            segmentation="vxlan",
            segment_id=1001,
        )
        s.flush()
        router(s, rid)
        s.flush()
        s.add(
            models.RouterInterface(
                router_id=rid, network_id="nw-tenant01", address="10.0.0.1"
            )
        )
        port = models.Port(
            network_id="nw-tenant01",
            instance_id=iid,
            ip_address="10.0.0.5",
            mac_address="52:54:00:00:00:05",
            hostname="guest",
        )
        s.add(port)
        s.flush()
        s.add(
            models.FloatingIp(
                id="fip-abcd1234",
                network_id="nw-extern01",
                address="203.0.113.20",
                account_id="a-admin",
                router_id=rid,
                port_id=port.id,
                instance_id=iid,
                fixed_address="10.0.0.5",
            )
        )
    with engine.session() as s:
        l3.manager_for("net1").apply_router({}, routing.router_message(s, rid))
    assert len(l3.manager_for("net1").driver.get(rid).floating_ips) == 1
    # What the API's disassociate writes.
    with engine.session() as s:
        s.execute(
            sa.update(models.FloatingIp)
            .where(models.FloatingIp.id == "fip-abcd1234")
            .values(
                router_id=None,
                port_id=None,
                instance_id=None,
                fixed_address=None,
            )
        )
        tid = tasks.create(
            s,
            account_id="a-admin",
            resource_id="fip-abcd1234",
            resource_type="floating_ip",
            action="disassociate",
            timeout_s=600,
        ).id
    first, _ = scheduler()
    mgr = l3.manager_for("net1")
    real = mgr.apply_router, mgr.remove_floating_ip

    def dying(*a, **kw):
        mgr.apply_router, mgr.remove_floating_ip = real
        raise Died()  # before the agent did it

    # the flow's delta (or the full state, for an older agent)
    mgr.apply_router = mgr.remove_floating_ip = dying
    with pytest.raises(Died):
        first.sync_router(ctxt, tid, rid)
    assert len(mgr.driver.get(rid).floating_ips) == 1  # still mapped

    lapse(tid)
    second, sweep = scheduler()
    assert [(x.id, a) for x, a in run_found(sweep)] == [(tid, True)]
    t = task_row(tid)
    assert (t.status, t.resource_type) == ("done", "floating_ip")
    assert [(e.step, e.status, e.host) for e in t.events][-1] == (
        "apply",
        "done",
        "net1",
    )
    assert mgr.driver.get(rid).floating_ips == ()


def test_a_change_recorded_during_the_apply_is_applied_too(
    cloud, sched_conf, l3, ctxt, monkeypatch
):
    """Another task disassociated the floating IP (and its flow applied
    the router) while this flow's older message was on its way: the
    flow reads the router again after its apply and sends the newer
    state, so the last apply to reach the host is the recorded one."""
    fips = [("203.0.113.20", "10.0.0.5")]
    monkeypatch.setattr(
        router_flows.routing,
        "router_message",
        lambda s, rid: router_msg(rid, fips=tuple(fips)),
    )
    add_l3("net1")
    rid, tid = add_router(host="net1")
    mgr = l3.manager_for("net1")
    real = mgr.apply_router

    def meanwhile(ctxt, router):
        out = real(ctxt, router)
        fips.clear()  # committed by the other task as this one applied
        mgr.apply_router = real
        return out

    mgr.apply_router = meanwhile
    assert run(SyncRouterFlow, rid, tid, l3, ctxt).status == "done"
    assert l3.methods() == ["apply_router", "apply_router"]
    assert mgr.driver.get(rid).floating_ips == ()


class RecordingNSA:
    def __init__(self):
        self.told: list[tuple[str, str, str]] = []

    def ensure_network(self, ctxt, node, network, timeout=60):
        self.told.append((node, network["id"], network["dhcp_address"]))
        return {}


def test_the_naming_nodes_leave_the_gateway_before_the_router_takes_it(
    cloud, sched_conf, l3, messages, ctxt
):
    add_l3("net1")
    with engine.session() as s:
        s.add(
            models.Service(
                host="nn1",
                binary="arame-nsa",
                topic="nsa",
                version="t",
                last_heartbeat_at=models.utcnow(),
            )
        )
    net = make_network("10.9.0.0/24", name="lan")
    rid, tid = add_router()
    with engine.session() as s:
        s.add(
            models.RouterInterface(
                router_id=rid, network_id=net.id, address="10.9.0.1"
            )
        )
    nsa = RecordingNSA()
    SyncRouterFlow(ctxt, tid, rid, l3, nsa).run()
    t = task_row(tid)
    assert t.status == "done"
    # dnsmasq told to its own address, before the router's apply.
    assert nsa.told == [("nn1", net.id, "10.9.0.254")]
    assert [(e.step, e.host) for e in t.events] == [
        ("schedule", "net1"),
        ("move DHCP", "nn1"),
        ("apply", "net1"),
    ]


def _fip_world(add_instance, rid="rt-delta001"):
    """An active router on net1 joining nw-tenant01 to nw-extern01, a
    port 10.0.0.5 and fip-delta001 (203.0.113.20) not associated; the
    router applied on net1 as recorded."""
    from tests.unit.collector.test_expected_routers import network, router

    add_l3("net1")
    iid, _ = add_instance(status="running")
    with engine.session() as s:
        network(
            s,
            "nw-extern01",
            "203.0.113.0/24",
            "203.0.113.1",
            segmentation="flat",
            mtu=1500,
            external=True,
            physical_network="public",
        )
        network(
            s,
            "nw-tenant01",
            "10.0.0.0/24",
            "10.0.0.1",
            segmentation="vxlan",
            segment_id=1001,
        )
        s.flush()
        router(s, rid, host="net1")
        s.flush()
        s.add(
            models.RouterInterface(
                router_id=rid, network_id="nw-tenant01", address="10.0.0.1"
            )
        )
        port = models.Port(
            network_id="nw-tenant01",
            instance_id=iid,
            ip_address="10.0.0.5",
            mac_address="52:54:00:00:00:05",
            hostname="guest",
        )
        s.add(port)
        s.flush()
        s.add(
            models.FloatingIp(
                id="fip-delta001",
                network_id="nw-extern01",
                address="203.0.113.20",
                account_id="a-admin",
            )
        )
        port_id = port.id
    return rid, iid, port_id


def _fip_task(action, rid, **values) -> str:
    """What the API writes for a floating IP's action: the record, then
    the task."""
    with engine.session() as s:
        s.execute(
            sa.update(models.FloatingIp)
            .where(models.FloatingIp.id == "fip-delta001")
            .values(**values)
        )
        return tasks.create(
            s,
            account_id="a-admin",
            resource_id="fip-delta001",
            resource_type="floating_ip",
            action=action,
            timeout_s=600,
        ).id


def _mapped(l3, rid):
    spec = l3.manager_for("net1").driver.get(rid)
    return {str(f.address): str(f.fixed_address) for f in spec.floating_ips}


def test_a_floating_ip_task_sends_one_mapping_not_the_router(
    cloud, sched_conf, l3, ctxt, add_instance
):
    from arame.common import routing

    rid, iid, port_id = _fip_world(add_instance)
    with engine.session() as s:
        l3.manager_for("net1").apply_router({}, routing.router_message(s, rid))
    tid = _fip_task(
        "associate",
        rid,
        router_id=rid,
        port_id=port_id,
        instance_id=iid,
        fixed_address="10.0.0.5",
    )
    assert run(SyncRouterFlow, rid, tid, l3, ctxt).status == "done"
    assert l3.methods() == ["add_floating_ip"]
    assert _mapped(l3, rid) == {"203.0.113.20": "10.0.0.5"}
    assert row(models.Router, rid).status == "active"

    l3.calls.clear()
    tid = _fip_task(
        "disassociate",
        rid,
        router_id=None,
        port_id=None,
        instance_id=None,
        fixed_address=None,
    )
    assert run(SyncRouterFlow, rid, tid, l3, ctxt).status == "done"
    assert l3.methods() == ["remove_floating_ip"]
    assert _mapped(l3, rid) == {}


def test_the_full_state_when_the_agent_cannot_take_the_delta(
    cloud, sched_conf, l3, ctxt, add_instance
):
    """An agent that holds no spec of the router (restarted) says so; one
    capped below 1.2 is not asked: both get apply_router."""
    from arame.common.rpc.version_cap import VersionCapped

    rid, iid, port_id = _fip_world(add_instance)
    values = dict(
        router_id=rid,
        port_id=port_id,
        instance_id=iid,
        fixed_address="10.0.0.5",
    )
    tid = _fip_task("associate", rid, **values)
    assert run(SyncRouterFlow, rid, tid, l3, ctxt).status == "done"
    assert l3.methods() == ["add_floating_ip", "apply_router"]
    assert _mapped(l3, rid) == {"203.0.113.20": "10.0.0.5"}

    l3.calls.clear()
    l3.fail["remove_floating_ip"] = VersionCapped(
        "l3", "remove_floating_ip", "1.2", "1.1"
    )
    tid = _fip_task(
        "disassociate",
        rid,
        **{k: None for k in values},
    )
    assert run(SyncRouterFlow, rid, tid, l3, ctxt).status == "done"
    assert l3.methods() == ["remove_floating_ip", "apply_router"]
    assert _mapped(l3, rid) == {}


def test_a_mapping_changed_during_its_delta_is_sent_again(
    cloud, sched_conf, l3, ctxt, add_instance
):
    """The floating IP was disassociated while this flow's add was on its
    way: the flow reads the record again and sends the removal."""
    from arame.common import routing

    rid, iid, port_id = _fip_world(add_instance)
    with engine.session() as s:
        l3.manager_for("net1").apply_router({}, routing.router_message(s, rid))
    tid = _fip_task(
        "associate",
        rid,
        router_id=rid,
        port_id=port_id,
        instance_id=iid,
        fixed_address="10.0.0.5",
    )
    mgr = l3.manager_for("net1")
    real = mgr.add_floating_ip

    def racing(*a, **kw):
        out = real(*a, **kw)
        _fip_task(
            "disassociate",
            rid,
            router_id=None,
            port_id=None,
            instance_id=None,
            fixed_address=None,
        )
        return out

    mgr.add_floating_ip = racing
    assert run(SyncRouterFlow, rid, tid, l3, ctxt).status == "done"
    assert l3.methods() == ["add_floating_ip", "remove_floating_ip"]
    assert _mapped(l3, rid) == {}
