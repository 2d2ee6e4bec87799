"""Automatic evacuation: one scheduler at a time (the leader lease), down
hosts not in maintenance, at most [ha] max_hosts_evacuating at once, once
per outage."""

import datetime as dt

import sqlalchemy as sa

from arame.common.db import engine, models
from arame.scheduler import auto_evacuate


class Casts:
    def __init__(self):
        self.casts = []

    def evacuate_instance(self, ctxt, task_id, instance_id):
        self.casts.append((task_id, instance_id))


def test_one_scheduler_holds_the_lease(db, config):
    config("auto_evacuate_interval", 10, group="ha")
    assert auto_evacuate.take_lease("s1")
    assert not auto_evacuate.take_lease("s2")
    assert auto_evacuate.take_lease("s1")  # renewed
    later = models.utcnow() + dt.timedelta(seconds=60)
    assert auto_evacuate.take_lease("s2", now=later)  # s1 stopped renewing


def test_down_hosts_within_the_limit_once_per_outage(
    add_host, add_instance, config
):
    config("service_down_time", 60)
    config("max_hosts_evacuating", 1, group="ha")
    for name in ("hv1", "hv2"):
        add_host(name, age_s=600)
        add_instance(
            name=f"web-{name}", status="running", host=name, claimed=True
        )
    add_host("hv3")
    add_host("hv4", age_s=600)
    with engine.session() as s:
        s.execute(
            sa.update(models.Host)
            .where(models.Host.name == "hv4")
            .values(maintenance=True)
        )
    casts = Casts()
    begun = auto_evacuate.evacuate_down_hosts(casts)
    assert [b.host for b in begun] == ["hv1"] or [b.host for b in begun] == [
        "hv2"
    ]
    assert len(casts.casts) == 1
    # The limit holds while the first is being evacuated.
    assert auto_evacuate.evacuate_down_hosts(casts) == []
    # Once it ended, the next one; the first is not evacuated again.
    with engine.session() as s:
        s.execute(sa.update(models.HostEvacuation).values(state="ended"))
    second = auto_evacuate.evacuate_down_hosts(casts)
    assert {b.host for b in begun + second} == {"hv1", "hv2"}
    with engine.session() as s:
        s.execute(sa.update(models.HostEvacuation).values(state="ended"))
    assert auto_evacuate.evacuate_down_hosts(casts) == []
    assert len(casts.casts) == 2


def test_off_by_default(db, config):
    ae = auto_evacuate.AutoEvacuator("s1", scheduler=Casts())
    ae.round()
    with engine.session() as s:
        assert s.get(models.LeaderLease, auto_evacuate.LEASE) is None
