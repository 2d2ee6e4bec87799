"""/v1/baremetal/nodes: admin only; the BMC password goes in, never out
(no answer, no log line); manage/provide are tasks the scheduler runs."""

import logging

import pytest
import sqlalchemy as sa

from arame.api.routers import baremetal as bm_router
from arame.common.db import engine, models

PASSWORD = "Sup3r-s3cret-BMC"
NEW_PASSWORD = "An0ther-s3cret-pw"


@pytest.fixture
def sched(monkeypatch, scheduler):
    """The conftest's recorder, behind this router's service too."""
    monkeypatch.setattr(bm_router.service, "_scheduler", scheduler)
    return scheduler


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


BODY = {
    "name": "rack1-n1",
    "bmc_address": "10.0.0.5",
    "bmc_port": 623,
    "bmc_username": "admin",
    "bmc_password": PASSWORD,
    "macs": ["52:54:00:AA:00:01"],
    "cpus": 8,
    "memory_mb": 16384,
    "disk_gb": 200,
}


def enroll(client, admin, **over):
    r = client.post(
        "/v1/baremetal/nodes", json={**BODY, **over}, headers=admin.headers
    )
    assert r.status_code == 201, r.text
    return r.json()


def set_state(nid, state, **values):
    with engine.session() as s:
        node = s.get(models.BaremetalNode, nid)
        node.provision_state = state
        for k, v in values.items():
            setattr(node, k, v)


def test_enroll_list_show_never_return_the_password(
    client, admin, logs, sched
):
    node = enroll(client, admin)
    assert node["id"].startswith("bm-")
    assert (node["provision_state"], node["status"]) == ("enroll", "enroll")
    assert node["macs"] == ["52:54:00:aa:00:01"]
    assert node["bmc_interface"] == "lanplus"
    assert node["maintenance"] is False and node["instance_id"] is None
    got = client.get(
        f"/v1/baremetal/nodes/{node['id']}", headers=admin.headers
    )
    listed = client.get("/v1/baremetal/nodes", headers=admin.headers)
    assert [n["id"] for n in listed.json()["items"]] == [node["id"]]
    r = client.patch(
        f"/v1/baremetal/nodes/{node['id']}",
        json={"bmc_password": NEW_PASSWORD, "cpus": 16},
        headers=admin.headers,
    )
    assert r.status_code == 200 and r.json()["cpus"] == 16
    bad = client.post(
        "/v1/baremetal/nodes",
        headers=admin.headers,
        json={
            **BODY,
            "name": "n2",
            "macs": ["52:54:00:aa:00:09"],
            "bmc_password": PASSWORD + "\x01",
        },
    )
    assert bad.status_code == 422
    for resp in (node, got.json(), r.json(), *listed.json()["items"]):
        assert "bmc_password" not in resp
    for resp in (got, listed, r, bad):
        assert PASSWORD not in resp.text and NEW_PASSWORD not in resp.text
    with engine.session() as s:
        row = s.get(models.BaremetalNode, node["id"])
        # Sealed at rest: the row alone does not give it, the key does.
        assert NEW_PASSWORD not in row.bmc_password
        assert row.bmc_message()["bmc_password"] == NEW_PASSWORD
    for rec in logs.records:
        line = rec.getMessage()
        assert PASSWORD not in line and NEW_PASSWORD not in line


@pytest.mark.parametrize("role", ["member", "reader"])
def test_only_an_admin(client, admin, make_user, error_of, role, sched):
    node = enroll(client, admin)
    caller = make_user(role)
    h = caller.headers
    base = "/v1/baremetal/nodes"
    for r in (
        client.get(base, headers=h),
        client.get(f"{base}/{node['id']}", headers=h),
        client.post(base, json={**BODY, "name": "x"}, headers=h),
        client.patch(f"{base}/{node['id']}", json={"cpus": 1}, headers=h),
        client.delete(f"{base}/{node['id']}", headers=h),
        client.post(
            f"{base}/{node['id']}/actions",
            json={"action": "manage"},
            headers=h,
        ),
    ):
        error_of(r, 403, "forbidden")
        assert PASSWORD not in r.text
    assert sched.casts == []
    error_of(client.get(base), 401)


def test_bad_input_is_4xx(client, admin, error_of):
    enroll(client, admin)
    url = "/v1/baremetal/nodes"
    h = admin.headers
    error_of(
        client.post(
            url,
            json={**BODY, "name": "n2", "macs": ["52:54:00:aa:00:01"]},
            headers=h,
        ),
        409,
        "conflict",
    )
    error_of(
        client.post(
            url, json={**BODY, "macs": ["52:54:00:aa:00:02"]}, headers=h
        ),
        409,
    )
    for over in (
        {"macs": ["nope"]},
        {"macs": []},
        {"cpus": 0},
        {"bmc_port": 70000},
        {"bmc_username": "-oProxy"},
        {"bmc_address": "-oEvil"},
        {"bmc_interface": "serial"},
        {"extra": 1},
        {"name": "bad..name"},
        {"macs": ["52:54:00:aa:00:03", "52:54:00:AA:00:03"]},
    ):
        err = error_of(
            client.post(url, json={**BODY, "name": "n3", **over}, headers=h),
            422,
            "invalid",
        )
        assert PASSWORD not in str(err)
    error_of(client.get(f"{url}/bm-nothere1", headers=h), 404, "not_found")
    error_of(client.get(f"{url}/i-12345678", headers=h), 404)


def test_busy_nodes_cannot_be_changed_or_deleted(client, admin, error_of):
    node = enroll(client, admin)
    url = f"/v1/baremetal/nodes/{node['id']}"
    for state in ("deploying", "active", "cleaning"):
        set_state(node["id"], state, instance_id="i-abcdefgh")
        error_of(
            client.patch(url, json={"cpus": 2}, headers=admin.headers), 409
        )
        error_of(client.delete(url, headers=admin.headers), 409)
    set_state(node["id"], "available", instance_id=None)
    r = client.patch(url, json={"name": "renamed"}, headers=admin.headers)
    assert r.json()["name"] == "renamed"
    assert client.delete(url, headers=admin.headers).status_code == 204
    error_of(client.get(url, headers=admin.headers), 404)


def test_actions_are_tasks_from_the_right_states(
    client, admin, sched, error_of
):
    node = enroll(client, admin)
    url = f"/v1/baremetal/nodes/{node['id']}/actions"
    h = admin.headers
    error_of(client.post(url, json={"action": "provide"}, headers=h), 409)
    r = client.post(url, json={"action": "manage"}, headers=h)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["task_id"].startswith("t-")
    assert body["provision_state"] == "enroll"
    assert sched.casts == [
        ("node_action", body["task_id"], node["id"], "manage")
    ]
    task = client.get(f"/v1/tasks/{body['task_id']}", headers=h).json()
    assert (task["status"], task["action"], task["resource_id"]) == (
        "queued",
        "manage",
        node["id"],
    )
    # One task at a time per node.
    error_of(client.post(url, json={"action": "manage"}, headers=h), 409)
    with engine.session() as s:
        s.get(models.Task, body["task_id"]).status = "done"
    set_state(node["id"], "manageable")
    r = client.post(url, json={"action": "provide"}, headers=h)
    assert r.status_code == 202 and sched.casts[-1][3] == "provide"
    error_of(client.post(url, json={"action": "deploy"}, headers=h), 422)


def test_maintenance_is_a_flag(client, admin, sched):
    node = enroll(client, admin)
    url = f"/v1/baremetal/nodes/{node['id']}/actions"
    r = client.post(
        url,
        json={"action": "maintenance", "on": True, "reason": "fan"},
        headers=admin.headers,
    )
    assert r.status_code == 202
    assert (
        r.json()["maintenance"],
        r.json()["maintenance_reason"],
        r.json()["task_id"],
    ) == (True, "fan", None)
    listed = client.get(
        "/v1/baremetal/nodes?maintenance=true", headers=admin.headers
    ).json()["items"]
    assert [n["id"] for n in listed] == [node["id"]]
    r = client.post(
        url, json={"action": "maintenance", "on": False}, headers=admin.headers
    )
    assert (r.json()["maintenance"], r.json()["maintenance_reason"]) == (
        False,
        None,
    )
    assert sched.casts == []


def test_bus_down_fails_the_task_at_once_and_leaves_the_node_as_it_was(
    client, admin, monkeypatch, error_of
):
    class Down:
        def node_action(self, *a):
            raise ConnectionError("broker unreachable")

    monkeypatch.setattr(bm_router.service, "_scheduler", Down())
    node = enroll(client, admin)
    err = error_of(
        client.post(
            f"/v1/baremetal/nodes/{node['id']}/actions",
            json={"action": "manage"},
            headers=admin.headers,
        ),
        503,
        "service_unavailable",
    )
    assert "not started" in err["message"]
    with engine.session() as s:
        task = s.scalars(
            sa.select(models.Task).where(models.Task.resource_id == node["id"])
        ).one()
        state = s.get(models.BaremetalNode, node["id"]).provision_state
    assert (task.status, task.error_step) == ("failed", "dispatch")
    assert state == "enroll"
