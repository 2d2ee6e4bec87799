"""A rolling upgrade on a real deployment (fake drivers, real bus and
database): every daemon reports the RPC API version its manager serves,
through its heartbeat, into the services table; a scheduler pinned one
hva version back ([upgrade_levels] hva = 1.3) applies a security group's
new rules guest by guest (refresh_ports) instead of the 1.4 batch, and the
task ends done as on the newest path."""

import pytest
import sqlalchemy as sa
from conftest import first_image

from arame.agents.hva.manager import HypervisorManager
from arame.collector.manager import CollectorManager
from arame.scheduler.manager import SchedulerManager
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.functional


def reported(dep) -> dict[str, str | None]:
    eng = dep.engine()
    try:
        with eng.connect() as db:
            rows = db.execute(
                sa.text("SELECT topic, rpc_version FROM services")
            ).all()
        return {topic: version for topic, version in rows}
    finally:
        eng.dispose()


def log_of(dep, daemon: str) -> str:
    with open(dep.daemons[daemon].log_path, errors="replace") as f:
        return f.read()


def test_a_scheduler_pinned_one_hva_version_back(make_deployment):
    dep = make_deployment(
        conf={"upgrade_levels": {"hva": "1.3"}},
        roles=("collector", "scheduler", "hva", "nsa", "api"),
    )
    got = wait_until(
        lambda: (lambda r: r if r.get("hva") else None)(reported(dep)),
        30,
        "the hva's heartbeat to carry its version",
    )
    assert got["hva"] == HypervisorManager.target.version
    assert got["scheduler"] == SchedulerManager.target.version
    assert got["collector"] == CollectorManager.target.version
    assert got["api"] is None  # it serves no RPC

    c = dep.client()
    try:
        web = c.security_groups.create(
            "web", rules_text="tcp:80,80,ip4:0.0.0.0/0"
        )
        inst = c.instances.create(
            name="up-1",
            flavor="small",
            image=first_image(c),
            security_groups=[web["id"]],
        )
        assert c.tasks.wait(inst["task_id"], timeout=60)["status"] == "done"
        host = c.instances.get(inst["id"])["host"]
        upd = c.security_groups.update(
            web["id"], rules_text="tcp:443,443,ip4:0.0.0.0/0"
        )
        task = c.tasks.wait(upd["task_id"], timeout=60)
    finally:
        c.close()
    assert task["status"] == "done", task
    assert [(e["step"], e["status"], e["host"]) for e in task["events"]] == [
        ("apply", "done", host)
    ]
    log = log_of(dep, "scheduler")
    assert (
        "RPC messages to hva services capped at 1.3 (pinned by "
        "[upgrade_levels])" in log
    )
    assert f"{host}: hva before 1.4, refreshing member by member" in log
