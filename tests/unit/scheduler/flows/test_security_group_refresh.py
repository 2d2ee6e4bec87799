"""A group's rules changed: one call per host carrying all its members
(refresh_host_ports, 1.4), per member only for an hva older than 1.4."""

import oslo_messaging as messaging
import pytest
import sqlalchemy as sa

from arame.agents.hva.manager import _expand
from arame.common import secgroups_db, tasks
from arame.common.db import engine, models
from arame.scheduler.flows.security_groups import (
    RefreshSecurityGroupFlow,
    member_specs,
    shared,
)
from tests.unit.common.test_ipam import make_network
from tests.unit.common.test_secgroups_db import add_group, plug


class HVA:
    def __init__(self):
        self.calls: list[tuple] = []
        self.fail: dict[str, Exception] = {}

    def refresh_host_ports(
        self, ctxt, host, members, groups, addresses, timeout
    ):
        # As hva's manager sees them: the shared parts put back.
        members = _expand(members, groups, addresses)
        self.calls.append(("refresh_host_ports", host, members))
        if "refresh_host_ports" in self.fail:
            raise self.fail["refresh_host_ports"]
        return {"instances": len(members)}

    def refresh_ports(self, ctxt, host, instance_id, ports, timeout):
        self.calls.append(("refresh_ports", host, instance_id))
        return {"ports": len(ports)}


@pytest.fixture
def lab(add_instance, add_host, sched_conf):
    """web (tcp 80): i1 and i2 on hv1, i3 on hv2."""
    for h in ("hv1", "hv2"):
        add_host(h)
    with engine.session() as s:
        s.execute(sa.update(models.Host).values(hypervisor_type="kvm"))
    net = make_network("10.61.0.0/24", segment_id=6101)
    web = add_group(
        "web",
        [{"protocol": "tcp", "from_port": 80, "to_port": 80, "cidr": None}],
    )
    out = {"web": web}
    for n, host in enumerate(("hv1", "hv1", "hv2"), start=1):
        iid, _ = add_instance(
            name=f"i{n}", status="running", host=host, claimed=True
        )
        plug(net, iid, [web], f"10.61.0.{10 + n}")
        out[f"i{n}"] = iid
    with engine.session() as s:
        out["task"] = tasks.create(
            s,
            account_id="a-admin",
            resource_id=web,
            resource_type="security_group",
            action="update",
            timeout_s=600,
        ).id
    return out


def test_one_call_per_host_with_all_its_members(ctxt, lab, get_row):
    hva = HVA()
    RefreshSecurityGroupFlow(ctxt, lab["task"], lab["web"], hva).run()
    task = get_row(models.Task, lab["task"])
    assert task.status == "done", task.error_message
    assert [(c[0], c[1], sorted(c[2])) for c in hva.calls] == [
        ("refresh_host_ports", "hv1", sorted([lab["i1"], lab["i2"]])),
        ("refresh_host_ports", "hv2", [lab["i3"]]),
    ]
    [port] = hva.calls[0][2][lab["i1"]]
    assert port["ip"] == "10.61.0.11"
    assert [g["id"] for g in port["security_groups"]] == [lab["web"]]
    assert port["group_members"][lab["web"]] == [
        "10.61.0.11",
        "10.61.0.12",
        "10.61.0.13",
    ]
    assert [(e.step, e.status, e.host) for e in task.events] == [
        ("apply", "done", "hv1"),
        ("apply", "done", "hv2"),
    ]


@pytest.mark.parametrize(
    "refusal",
    [
        messaging.RemoteError("UnsupportedVersion", "1.4 > 1.3"),
        messaging.UnsupportedVersion("1.4"),
    ],
)
def test_an_older_hva_is_asked_member_by_member(ctxt, lab, get_row, refusal):
    hva = HVA()
    hva.fail["refresh_host_ports"] = refusal
    RefreshSecurityGroupFlow(ctxt, lab["task"], lab["web"], hva).run()
    assert get_row(models.Task, lab["task"]).status == "done"
    assert [c[:3] for c in hva.calls if c[0] == "refresh_ports"] == [
        ("refresh_ports", "hv1", i) for i in sorted([lab["i1"], lab["i2"]])
    ] + [("refresh_ports", "hv2", lab["i3"])]


def test_another_refusal_fails_the_host_not_the_others(ctxt, lab, get_row):
    hva = HVA()
    hva.fail["refresh_host_ports"] = messaging.RemoteError(
        "InstanceNotFound", "not on this host: i-x"
    )
    RefreshSecurityGroupFlow(ctxt, lab["task"], lab["web"], hva).run()
    task = get_row(models.Task, lab["task"])
    assert (task.status, task.error_step) == ("failed", "apply")
    assert task.error_message.startswith("hv1: InstanceNotFound")
    assert [c[0] for c in hva.calls] == ["refresh_host_ports"] * 2


def test_member_specs_are_what_the_one_by_one_query_gives(lab, add_instance):
    """Loaded in one go, each member's specs are exactly those of
    port_specs_for_instance, a group naming another included."""
    net = make_network("10.62.0.0/24", segment_id=6102, name="n2")
    pg = {"protocol": "tcp", "from_port": 5432, "to_port": 5432}
    db = add_group("db", [{**pg, "group_id": lab["web"]}])
    i4, _ = add_instance(name="i4", status="running", host="hv2", claimed=True)
    plug(net, i4, [db, lab["web"]], "10.62.0.14")
    bare, _ = add_instance(name="i5", status="running", host="hv2")
    iids = [lab[k] for k in ("i1", "i2", "i3")] + [i4, bare]
    with engine.session() as s:
        batch = member_specs(s, iids)
        one = {i: secgroups_db.port_specs_for_instance(s, i) for i in iids}
    assert batch == one
    # Sent with each group's rules and members once, and put back whole.
    slim, groups, addresses = shared(batch)
    assert set(groups) == {db, lab["web"]}
    assert "rules" not in slim[i4][0]["security_groups"][0]
    assert _expand(slim, groups, addresses) == one
    assert batch[bare] == []
    assert set(batch[i4][0]["group_members"]) == {db, lab["web"]}
