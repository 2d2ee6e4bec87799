"""Host operations on a running cloud (fake hypervisors, the machine's
RabbitMQ and MariaDB): a disabled host takes no new instance and keeps its
guest; a host in maintenance neither; put back, it takes work again."""

import pytest
from conftest import first_image

from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.functional


def _boot(c, img, name):
    inst = c.instances.create(name=name, flavor="small", image=img)
    task = c.tasks.wait(inst["task_id"], timeout=60)
    assert task["status"] == "done", task
    return c.instances.get(inst["id"])


def _ended(task):
    return task if task["status"] in ("done", "failed") else None


def test_disabled_and_maintenance_hosts_take_no_new_work(make_deployment):
    dep = make_deployment(conf={"fake_hva": {"host_count": 2}}, hypervisors=2)
    c = dep.client()
    img = first_image(c)
    old = _boot(c, img, "old")
    a = old["host"]
    (b,) = [
        h["name"]
        for h in c.hosts.list()
        if h.get("hypervisor_type") and h["name"] != a
    ]

    got = c.hosts.disable(a, reason="functional: bad DIMM")
    assert (got["enabled"], got["disabled_reason"]) == (
        False,
        "functional: bad DIMM",
    )
    placed = [_boot(c, img, f"new{n}")["host"] for n in range(3)]
    assert placed == [b, b, b]
    # The disabled host's guest stays, running, and still answers.
    assert c.instances.get(old["id"])["host"] == a
    assert c.instances.get(old["id"])["status"] == "running"

    # B in maintenance as well: nowhere to go, and the task says why.
    c.hosts.maintenance(b, reason="functional: firmware")
    inst = c.instances.create(name="nowhere", flavor="small", image=img)
    task = wait_until(
        lambda: _ended(c.tasks.get(inst["task_id"])), 60, "the build to end"
    )
    assert task["status"] == "failed", task
    assert task["error"]["step"] == "schedule", task
    assert "ServiceAliveFilter" in task["error"]["message"], task

    # Put back: A takes work again (B, still in maintenance, does not).
    c.hosts.enable(a)
    assert _boot(c, img, "back")["host"] == a
    listed = {h["name"]: h for h in c.hosts.list()}
    assert (listed[a]["enabled"], listed[a]["disabled_reason"]) == (True, None)
    assert (listed[b]["maintenance"], listed[b]["maintenance_reason"]) == (
        True,
        "functional: firmware",
    )
