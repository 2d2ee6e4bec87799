"""Unit groups and units in the API: the records a request writes (all of
them or none), names as handles, the parent task and its children, and the
states derived from the nodes."""

import pytest
import sqlalchemy as sa

from arame.api.routers import unit_groups as groups_router
from arame.api.routers import units as units_router
from arame.common import quotas, task_tree
from arame.common.db import engine, models


@pytest.fixture
def sched(scheduler, monkeypatch):
    monkeypatch.setattr(groups_router.service, "_scheduler", scheduler)
    monkeypatch.setattr(units_router.service, "_scheduler", scheduler)
    return scheduler


@pytest.fixture
def group(client, member, sched):
    r = client.post(
        "/v1/unit_groups", json={"name": "handson101"}, headers=member.headers
    )
    assert r.status_code == 201, r.text
    return r.json()


def _unit(client, caller, cloud, count=2, **extra):
    body = {
        "unit_group": "handson101",
        "name": "server",
        "spec": {"provider": "vm", "flavor": "small", "image": cloud.image_id},
        "count": count,
    } | extra
    return client.post("/v1/units", json=body, headers=caller.headers)


def _end_children(parent_id, status="done", message=None):
    """What the nodes' flows do: end their tasks, then settle the parent."""
    with engine.session() as s:
        kids = s.scalars(
            sa.select(models.Task).where(models.Task.parent_id == parent_id)
        ).all()
        for t in kids:
            t.status = status
            t.error_step = "spawn" if status == "failed" else None
            t.error_message = message
    return task_tree.settle(parent_id)


def _set_nodes(unit_id, status, reason=None):
    with engine.session() as s:
        s.execute(
            sa.update(models.Instance)
            .where(
                models.Instance.unit_id == unit_id,
                models.Instance.status != "terminated",
            )
            .values(status=status, status_reason=reason)
        )


def test_a_new_group_is_running_and_found_by_name(client, member, group):
    assert group["id"].startswith("ug-")
    assert group["state"] == "running" and group["units"] == []
    r = client.get("/v1/unit_groups/handson101", headers=member.headers)
    assert r.status_code == 200 and r.json()["id"] == group["id"]
    r = client.post(
        "/v1/unit_groups", json={"name": "handson101"}, headers=member.headers
    )
    assert r.status_code == 409 and "already exists" in r.text


def test_another_account_never_sees_a_group(client, make_user, group):
    other = make_user("member")
    r = client.get("/v1/unit_groups/handson101", headers=other.headers)
    assert r.status_code == 404
    r = client.get(f"/v1/unit_groups/{group['id']}", headers=other.headers)
    assert r.status_code == 404
    assert (
        client.get("/v1/unit_groups", headers=other.headers).json()["items"]
        == []
    )


def test_create_unit_makes_every_node_under_one_parent_task(
    client, member, group, cloud, sched
):
    r = _unit(client, member, cloud, count=3)
    assert r.status_code == 202, r.text
    unit = r.json()
    assert unit["id"].startswith("un-") and unit["state"] == "booting"
    assert [n["name"] for n in unit["nodes"]] == [
        "server-1",
        "server-2",
        "server-3",
    ]
    assert sched.methods() == ["build_instance"] * 3
    task = client.get(
        f"/v1/tasks/{unit['task_id']}", headers=member.headers
    ).json()
    assert task["status"] == "running" and task["resource_type"] == "unit"
    # The nodes are ordinary instances, labelled with their unit.
    inst = client.get(
        f"/v1/instances/{unit['nodes'][0]['id']}", headers=member.headers
    ).json()
    assert inst["unit"] == unit["id"] and inst["unit_group"] == group["id"]

    _set_nodes(unit["id"], "running")
    assert _end_children(unit["task_id"]) is True
    task = client.get(
        f"/v1/tasks/{unit['task_id']}", headers=member.headers
    ).json()
    assert task["status"] == "done"
    assert sorted(e["step"] for e in task["events"]) == [
        "node server-1",
        "node server-2",
        "node server-3",
    ]
    got = client.get(
        "/v1/units/server?unit_group=handson101", headers=member.headers
    ).json()
    assert got["state"] == "running"
    g = client.get("/v1/unit_groups/handson101", headers=member.headers)
    assert g.json()["state"] == "running" and g.json()["node_count"] == 3


def test_a_failed_node_puts_the_unit_in_error_with_its_reason(
    client, member, group, cloud
):
    unit = _unit(client, member, cloud, count=2).json()
    first = unit["nodes"][0]["id"]
    _set_nodes(unit["id"], "running")
    with engine.session() as s:
        s.get(models.Instance, first).status = "error"
        s.get(models.Instance, first).status_reason = "spawn: no image"
    _end_children(unit["task_id"], "failed", "no image")
    got = client.get(f"/v1/units/{unit['id']}", headers=member.headers).json()
    assert got["state"] == "error"
    assert got["errors"] == [
        {"node_id": first, "name": "server-1", "reason": "spawn: no image"}
    ]
    task = client.get(
        f"/v1/tasks/{unit['task_id']}", headers=member.headers
    ).json()
    assert task["status"] == "failed"
    assert "2 of 2 nodes failed" in task["error"]["message"]
    g = client.get("/v1/unit_groups/handson101", headers=member.headers)
    assert g.json()["state"] == "error"


def test_quota_refuses_the_whole_request_and_writes_nothing(
    client, member, group, cloud
):
    quotas.ensure_row(member.account_id)
    with engine.session() as s:
        q = s.get(models.Quota, member.account_id)
        q.instances = 2
    r = _unit(client, member, cloud, count=3)
    assert r.status_code == 429 and "instances" in r.text
    with engine.session() as s:
        assert s.scalar(sa.select(sa.func.count(models.Unit.id))) == 0
        assert (
            s.scalar(
                sa.select(sa.func.count(models.Instance.id)).where(
                    models.Instance.account_id == member.account_id
                )
            )
            == 0
        )


def test_bad_spec_is_a_422_naming_the_field(client, member, group, cloud):
    r = _unit(
        client,
        member,
        cloud,
        spec={"provider": "vm", "flavor": "nope", "image": cloud.image_id},
    )
    assert r.status_code == 422 and "spec.flavor" in r.text
    r = _unit(client, member, cloud, count=2, ip_addresses=["10.0.0.9"])
    assert r.status_code == 422 and "count" in r.text


def test_add_and_delete_nodes_name_and_pick_nodes(
    client, member, group, cloud, sched
):
    unit = _unit(client, member, cloud, count=2).json()
    _set_nodes(unit["id"], "running")
    r = client.post(
        f"/v1/units/{unit['id']}/actions",
        json={"action": "add_nodes", "count": 2},
        headers=member.headers,
    )
    assert r.status_code == 202, r.text
    added = r.json()["node_ids"]
    got = client.get(f"/v1/units/{unit['id']}", headers=member.headers).json()
    assert [n["name"] for n in got["nodes"]] == [
        "server-1",
        "server-2",
        "server-3",
        "server-4",
    ]
    # An error node goes first, then the newest.
    _set_nodes(unit["id"], "running")
    with engine.session() as s:
        s.get(models.Instance, unit["nodes"][0]["id"]).status = "error"
    r = client.post(
        f"/v1/units/{unit['id']}/actions",
        json={"action": "delete_nodes", "count": 2},
        headers=member.headers,
    )
    assert r.status_code == 202, r.text
    assert r.json()["node_ids"] == [unit["nodes"][0]["id"], added[-1]]
    assert sched.methods()[-2:] == ["delete_instance", "delete_instance"]
    r = client.post(
        f"/v1/units/{unit['id']}/actions",
        json={"action": "delete_nodes", "node_ids": ["server-9"]},
        headers=member.headers,
    )
    assert r.status_code == 422 and "server-9" in r.text


def test_concurrent_counts_never_take_the_same_node(
    client, member, group, cloud, sched, monkeypatch
):
    """Two delete_nodes(count=1) at once rank the same newest node; the
    one that comes second must take the next node, not the first one's
    again (which would delete one node for two requests)."""
    from arame.api.services import unit_records

    unit = _unit(client, member, cloud, count=4).json()
    _set_nodes(unit["id"], "running")
    ids = [n["id"] for n in unit["nodes"]]
    real = unit_records.live_nodes
    stolen: list[str] = []

    def raced(s, unit_ids):
        # What this request read is what the other one had also read;
        # the other has since committed and taken the node it ranked.
        got = real(s, unit_ids)
        s.execute(
            sa.update(models.Instance)
            .where(models.Instance.id.in_(stolen))
            .values(status="shuttingdown")
            .execution_options(synchronize_session=False)
        )
        return got

    monkeypatch.setattr(unit_records, "live_nodes", raced)
    stolen[:] = [ids[3]]
    r = client.post(
        f"/v1/units/{unit['id']}/actions",
        json={"action": "delete_nodes", "count": 1},
        headers=member.headers,
    )
    assert r.status_code == 202, r.text
    assert r.json()["node_ids"] == [ids[2]]
    # Too few left once the others are taken: 409, and nothing written.
    stolen[:] = [ids[1]]
    r = client.post(
        f"/v1/units/{unit['id']}/actions",
        json={"action": "delete_nodes", "count": 2},
        headers=member.headers,
    )
    assert r.status_code == 409, r.text
    assert "only 1 of unit" in r.text
    with engine.session() as s:
        assert s.get(models.Instance, ids[0]).status == "running"


def test_power_off_skips_nodes_already_there(
    client, member, group, cloud, sched
):
    unit = _unit(client, member, cloud, count=2).json()
    _set_nodes(unit["id"], "running")
    with engine.session() as s:
        s.get(models.Instance, unit["nodes"][1]["id"]).status = "stopped"
    r = client.post(
        f"/v1/units/{unit['id']}/actions",
        json={"action": "power_off"},
        headers=member.headers,
    )
    assert r.status_code == 202, r.text
    assert r.json()["node_ids"] == [unit["nodes"][0]["id"]]
    assert sched.casts[-1][0] == "instance_action"
    assert sched.casts[-1][3] == "stop"


def test_cleanup_deletes_every_node_then_units_and_group(
    client, member, group, cloud, sched
):
    unit = _unit(client, member, cloud, count=2).json()
    r = client.delete("/v1/unit_groups/handson101", headers=member.headers)
    assert r.status_code == 202, r.text
    parent = r.json()["task_id"]
    # Asked again while it runs: the same task.
    again = client.delete("/v1/unit_groups/handson101", headers=member.headers)
    assert again.json()["task_id"] == parent
    g = client.get("/v1/unit_groups/handson101", headers=member.headers)
    assert g.json()["state"] == "deleting"
    assert sched.methods().count("delete_instance") == 2
    _set_nodes(unit["id"], "terminated")
    assert _end_children(parent) is True
    r = client.get("/v1/unit_groups/handson101", headers=member.headers)
    assert r.status_code == 404
    # The name is free again.
    r = client.post(
        "/v1/unit_groups", json={"name": "handson101"}, headers=member.headers
    )
    assert r.status_code == 201


def test_an_empty_group_is_cleaned_up_at_once(client, member, group):
    r = client.delete(f"/v1/unit_groups/{group['id']}", headers=member.headers)
    task = client.get(
        f"/v1/tasks/{r.json()['task_id']}", headers=member.headers
    ).json()
    assert task["status"] == "done"
    assert (
        client.get(
            f"/v1/unit_groups/{group['id']}", headers=member.headers
        ).status_code
        == 404
    )


def test_a_failed_cleanup_keeps_the_group_to_try_again(
    client, member, group, cloud
):
    unit = _unit(client, member, cloud, count=1).json()
    parent = client.delete(
        "/v1/unit_groups/handson101", headers=member.headers
    ).json()["task_id"]
    _set_nodes(unit["id"], "error", "destroy failed")
    _end_children(parent, "failed", "hv1 refused")
    g = client.get("/v1/unit_groups/handson101", headers=member.headers)
    assert g.status_code == 200 and g.json()["state"] == "error"
    r = client.delete("/v1/unit_groups/handson101", headers=member.headers)
    assert r.status_code == 202 and r.json()["task_id"] != parent


def test_a_unit_name_in_two_groups_needs_the_group(
    client, member, group, cloud
):
    assert _unit(client, member, cloud, count=0).status_code == 202
    client.post(
        "/v1/unit_groups", json={"name": "second"}, headers=member.headers
    )
    assert (
        _unit(client, member, cloud, count=0, unit_group="second").status_code
        == 202
    )
    r = client.get("/v1/units/server", headers=member.headers)
    assert r.status_code == 409 and "several unit groups" in r.text
    r = client.get(
        "/v1/units/server?unit_group=second", headers=member.headers
    )
    assert r.status_code == 200 and r.json()["unit_group_name"] == "second"


def test_a_unit_keeps_what_its_spec_named_and_holds_its_image(
    client, admin, member, group, cloud
):
    with engine.session() as s:
        s.get(models.Image, cloud.image_id).account_id = member.account_id
    name = client.get(
        f"/v1/images/{cloud.image_id}", headers=member.headers
    ).json()["name"]
    unit = _unit(
        client,
        member,
        cloud,
        count=0,
        spec={"provider": "vm", "flavor": "small", "image": name},
    ).json()
    assert unit["spec"]["image"] == cloud.image_id
    r = client.delete(f"/v1/images/{cloud.image_id}", headers=admin.headers)
    assert r.status_code == 409, r.text
    assert unit["id"] in r.text and "1 unit" in r.text
