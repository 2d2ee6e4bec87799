"""The flow that applies an instance's new security groups: its chains on
its host, then the member sets of the groups it left and joined on every
host with a member."""

import oslo_messaging as messaging
import pytest
import sqlalchemy as sa

from arame.common import secgroups_db, tasks
from arame.common.db import engine, models
from arame.scheduler.flows.instance_security_groups import (
    InstanceSecurityGroupsFlow,
)
from tests.unit.common.test_ipam import make_network
from tests.unit.common.test_secgroups_db import add_group, plug


class HVA:
    def __init__(self):
        self.calls: list[tuple] = []
        self.fail: dict[str, Exception] = {}

    def refresh_ports(self, ctxt, host, instance_id, ports, timeout):
        self.calls.append(("refresh_ports", host, instance_id, ports))
        if "refresh_ports" in self.fail:
            raise self.fail["refresh_ports"]
        return {"ports": len(ports)}

    def update_group_members(self, ctxt, host, group_id, addresses):
        self.calls.append(("members", host, group_id, tuple(addresses)))


@pytest.fixture
def hva():
    return HVA()


@pytest.fixture
def lab(add_instance, add_host, sched_conf):
    """web (tcp 80) and db (tcp 3306) groups; i1 on hv1 in web, i2 on hv2
    in db, i3 on hv3 in web."""
    for h in ("hv1", "hv2", "hv3"):
        add_host(h)
    with engine.session() as s:
        s.execute(sa.update(models.Host).values(hypervisor_type="kvm"))
    net = make_network("10.60.0.0/24", segment_id=6100)
    tcp = lambda p: {  # noqa: E731
        "protocol": "tcp",
        "from_port": p,
        "to_port": p,
        "cidr": "0.0.0.0/0",
    }
    web, db = add_group("web", [tcp(80)]), add_group("db", [tcp(3306)])
    out = {"web": web, "db": db}
    for n, (host, group) in enumerate(
        (("hv1", web), ("hv2", db), ("hv3", web)), start=1
    ):
        iid, _ = add_instance(
            name=f"i{n}", status="running", host=host, claimed=True
        )
        plug(net, iid, [group], f"10.60.0.{10 + n}")
        out[f"i{n}"] = iid
    return out


def change(iid, groups) -> str:
    """What the API does: the new membership and the task, one commit."""
    ISG = models.InstanceSecurityGroup
    with engine.session() as s:
        s.execute(sa.delete(ISG).where(ISG.instance_id == iid))
        secgroups_db.set_membership(s, iid, groups)
        return tasks.create(
            s,
            account_id="a-admin",
            resource_id=iid,
            resource_type="instance",
            action="update_security_groups",
            timeout_s=600,
        ).id


def run(ctxt, hva, iid, tid, previous):
    InstanceSecurityGroupsFlow(ctxt, tid, iid, hva, previous).run()


def test_chains_on_its_host_then_members_of_left_and_joined_groups(
    ctxt, hva, lab, get_row
):
    i1, web, db = lab["i1"], lab["web"], lab["db"]
    tid = change(i1, [db])
    run(ctxt, hva, i1, tid, [web])

    task = get_row(models.Task, tid)
    assert task.status == "done", task.error_message
    assert [(e.step, e.status, e.host) for e in task.events] == [
        ("apply", "done", "hv1"),
        ("members", "done", None),
    ]
    (refresh, *members) = hva.calls
    assert refresh[:3] == ("refresh_ports", "hv1", i1)
    [port] = refresh[3]
    assert [g["id"] for g in port["security_groups"]] == [db]
    assert port["group_members"][db] == ["10.60.0.11", "10.60.0.12"]
    # Every host with a member of either group learns both sets: db's
    # members are i1 now and i2, web's only i3.
    assert {c[1] for c in members} == {"hv1", "hv2", "hv3"}
    assert {c[2]: c[3] for c in members} == {
        db: ("10.60.0.11", "10.60.0.12"),
        web: ("10.60.0.13",),
    }
    # The instance itself was not moved.
    assert get_row(models.Instance, i1).status == "running"


def test_resumed_without_the_old_groups_it_sends_every_group(ctxt, hva, lab):
    i1, web, db = lab["i1"], lab["web"], lab["db"]
    tid = change(i1, [db])
    run(ctxt, hva, i1, tid, None)
    sent = {(c[1], c[2]) for c in hva.calls if c[0] == "members"}
    assert ("hv3", web) in sent and ("hv2", db) in sent


def test_a_host_that_fails_fails_the_task_and_members_are_still_sent(
    ctxt, hva, lab, get_row
):
    i1, web, db = lab["i1"], lab["web"], lab["db"]
    with engine.session() as s:
        s.execute(
            sa.update(models.Host)
            .where(models.Host.name == "hv1")
            .values(last_report_at=None)
        )
    hva.fail["refresh_ports"] = messaging.MessagingTimeout("no reply")
    tid = change(i1, [db])
    run(ctxt, hva, i1, tid, [web])
    task = get_row(models.Task, tid)
    assert (task.status, task.error_step) == ("failed", "apply")
    assert "hv1 is down" in task.error_message
    assert "repeat the request" in task.error_message
    assert any(c[0] == "members" for c in hva.calls)
    assert get_row(models.Instance, i1).status == "running"


@pytest.mark.parametrize("status", ["shuttingdown", "terminated"])
def test_an_instance_being_deleted_needs_nothing(
    ctxt, hva, lab, get_row, status
):
    i1, db = lab["i1"], lab["db"]
    tid = change(i1, [db])
    with engine.session() as s:
        s.get(models.Instance, i1).status = status
    run(ctxt, hva, i1, tid, [lab["web"]])
    assert get_row(models.Task, tid).status == "done"
    assert hva.calls == []


def test_an_instance_without_ports_only_sends_members(
    ctxt, hva, add_instance, add_host, get_row, sched_conf
):
    add_host("hv1")
    iid, _ = add_instance(status="running", host="hv1", claimed=True)
    g = add_group("solo")
    tid = change(iid, [g])
    run(ctxt, hva, iid, tid, [])
    task = get_row(models.Task, tid)
    assert task.status == "done"
    assert [e.step for e in task.events] == ["apply", "members"]
    assert [c[0] for c in hva.calls if c[0] == "refresh_ports"] == []
