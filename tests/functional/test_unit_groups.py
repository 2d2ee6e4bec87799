"""Unit groups and units for real: API, two schedulers, collector and fake
agents as processes on RabbitMQ and MariaDB. Concurrent add/delete on one
unit, a cleanup while nodes build, a quota refusal of a whole request, a
node that fails beside others that do not, names reused after a cleanup,
and a scheduler killed while a unit's nodes build."""

import concurrent.futures
import signal
import uuid

import pytest
from conftest import ADMIN_PASSWORD, BASE_CONF, Deployment, first_image, merge

from arame.sdk import ArameError
from tests.helpers.ports import free_port
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.functional

CONF = {
    # Slow enough to catch nodes mid-build; `broken-` nodes never spawn.
    "fake_hva": {"spawn_delay": 0.5, "fail_spawn_pattern": "^broken-"},
    "scheduler": {"task_lease": 3, "sweep_interval": 1},
}


@pytest.fixture(scope="module")
def dep(infrastructure, tmp_path_factory):
    rabbit, mariadb = infrastructure
    name = "ft_" + uuid.uuid4().hex[:8]
    d = Deployment(
        name,
        str(tmp_path_factory.mktemp(name)),
        api_port=free_port(),
        admin_password=ADMIN_PASSWORD,
        conf=merge(BASE_CONF, CONF),
        rabbit=rabbit,
        mariadb=mariadb,
    )
    try:
        d.up(timeout=90)
        d.start("scheduler", name="scheduler-2")
        yield d
    finally:
        d.down(drop=True)


@pytest.fixture(scope="module")
def client(dep):
    c = dep.client()
    yield c
    c.close()


def spec(client, **extra):
    return {
        "provider": "vm",
        "flavor": "small",
        "image": first_image(client),
    } | extra


def done(client, task_id, timeout=90):
    """The task once it ended, done or failed."""
    return wait_until(
        lambda: (
            t
            if (t := client.tasks.get(task_id))["status"] in ("done", "failed")
            else None
        ),
        timeout=timeout,
        what=f"task {task_id} to end",
    )


def live_nodes(client, unit_id):
    return [
        i
        for i in client.instances.list(unit=unit_id)
        if i["status"] != "terminated"
    ]


def test_a_unit_builds_its_nodes_and_the_group_shows_them(client):
    g = client.unit_groups.create("exp1")
    u = client.units.create("exp1", "web", spec(client), count=3)
    task = done(client, u["task_id"])
    assert task["status"] == "done", task
    assert sorted(e["step"] for e in task["events"]) == [
        "node web-1",
        "node web-2",
        "node web-3",
    ]
    unit = client.units.get("web", unit_group="exp1")
    assert unit["state"] == "running" and unit["node_count"] == 3
    assert all(n["ip_address"] for n in unit["nodes"])
    nodes = live_nodes(client, u["id"])
    assert {n["unit_group"] for n in nodes} == {g["id"]}
    assert client.unit_groups.get("exp1")["state"] == "running"


def test_concurrent_add_and_delete_on_one_unit(client):
    client.unit_groups.create("exp2")
    u = client.units.create("exp2", "pool", spec(client), count=3)
    assert done(client, u["task_id"])["status"] == "done"

    def add():
        return client.units.add_nodes(u["id"], count=2)

    def delete():
        return client.units.delete_nodes(u["id"], count=1)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = [
            f.result()
            for f in [pool.submit(add), pool.submit(delete)]
            + [pool.submit(add), pool.submit(delete)]
        ]
    for a in answers:
        assert done(client, a["task_id"])["status"] == "done"
    unit = client.units.get(u["id"])
    names = [n["name"] for n in unit["nodes"]]
    assert len(names) == 3 + 4 - 2 and len(set(names)) == len(names)
    assert unit["state"] == "running"
    deleted = {nid for a in answers[1::2] for nid in a["node_ids"]}
    assert len(deleted) == 2
    assert not deleted & {n["id"] for n in unit["nodes"]}


def test_cleanup_while_nodes_build_leaves_nothing(client):
    client.unit_groups.create("exp3")
    u = client.units.create("exp3", "batch", spec(client), count=4)
    cleanup = client.unit_groups.delete("exp3")
    task = done(client, cleanup["task_id"])
    assert task["status"] == "done", task
    with pytest.raises(ArameError) as e:
        client.unit_groups.get("exp3")
    assert e.value.status_code == 404
    assert live_nodes(client, u["id"]) == []
    # The unit's own build task ended too (cancelled, or built then
    # deleted): nothing left running.
    build = client.tasks.get(u["task_id"])
    wait_until(
        lambda: client.tasks.get(u["task_id"])["status"] in ("done", "failed"),
        timeout=60,
    )
    assert build["resource_type"] == "unit"


def test_quota_refuses_the_whole_request(client):
    g = client.unit_groups.create("exp4")
    acct = g["account_id"]
    used = client.accounts.get_quota(acct)["in_use"]["instances"]
    client.accounts.set_quota(acct, instances=used + 2)
    try:
        with pytest.raises(ArameError) as e:
            client.units.create("exp4", "big", spec(client), count=3)
        assert e.value.status_code == 429 and "instances" in str(e.value)
        assert client.units.list("exp4") == []
        assert client.accounts.get_quota(acct)["in_use"]["instances"] == used
        # Two fit.
        u = client.units.create("exp4", "big", spec(client), count=2)
        assert done(client, u["task_id"])["status"] == "done"
    finally:
        client.accounts.set_quota(acct, instances=None)


def test_a_failed_node_leaves_the_others_and_says_why(client):
    client.unit_groups.create("exp5")
    good = client.units.create("exp5", "ok", spec(client), count=2)
    bad = client.units.create("exp5", "broken", spec(client), count=2)
    assert done(client, good["task_id"])["status"] == "done"
    task = done(client, bad["task_id"])
    assert task["status"] == "failed"
    assert "2 of 2 nodes failed" in task["error"]["message"]
    unit = client.units.get(bad["id"])
    assert unit["state"] == "error"
    assert {e["name"] for e in unit["errors"]} == {"broken-1", "broken-2"}
    assert all("fail_spawn_pattern" in e["reason"] for e in unit["errors"])
    assert client.units.get(good["id"])["state"] == "running"
    assert client.unit_groups.get("exp5")["state"] == "error"
    # The server picks the failed nodes first.
    gone = client.units.delete_nodes(bad["id"], count=2)
    assert done(client, gone["task_id"])["status"] == "done"
    assert client.units.get(bad["id"])["node_count"] == 0


def test_names_are_reused_after_cleanup(client):
    for _ in range(2):
        client.unit_groups.create("again")
        u = client.units.create("again", "web", spec(client), count=1)
        assert done(client, u["task_id"])["status"] == "done"
        assert (
            done(client, client.unit_groups.delete("again")["task_id"])[
                "status"
            ]
            == "done"
        )


def test_a_scheduler_killed_while_nodes_build_loses_nothing(dep, client):
    client.unit_groups.create("exp6")
    u = client.units.create("exp6", "survivor", spec(client), count=4)
    # Kill one scheduler mid-build; the other adopts its tasks when their
    # leases lapse, and the parent still ends.
    dep.stop("scheduler", sig=signal.SIGKILL)
    try:
        task = done(client, u["task_id"], timeout=120)
        assert task["status"] == "done", task
        unit = client.units.get(u["id"])
        assert unit["state"] == "running" and unit["node_count"] == 4
    finally:
        dep.start("scheduler")
