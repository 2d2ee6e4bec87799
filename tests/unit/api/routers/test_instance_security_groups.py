"""PUT /v1/instances/{id}/security_groups: the groups replaced and a task
to apply them, for a placed instance of the caller's; 409 while it is
built or deleted, 422 naming a group that is not of its account."""

import pytest
import sqlalchemy as sa

from arame.api.routers import instance_security_groups as isg_router
from arame.common import secgroups_db
from arame.common.db import engine, models
from tests.unit.api.conftest import assert_error


class RecordingScheduler:
    def __init__(self):
        self.casts = []
        self.fail = False

    def update_instance_security_groups(
        self, ctxt, task_id, instance_id, previous
    ):
        if self.fail:
            raise OSError("broker down")
        self.casts.append((task_id, instance_id, previous))


@pytest.fixture
def sched(monkeypatch):
    rec = RecordingScheduler()
    monkeypatch.setattr(isg_router.service, "_scheduler", rec)
    return rec


@pytest.fixture
def group(client):
    def make(caller, name):
        r = client.post(
            "/v1/security_groups", json={"name": name}, headers=caller.headers
        )
        assert r.status_code == 201, r.text
        return r.json()["id"]

    return make


@pytest.fixture
def instance(create, scheduler):
    def make(caller, status="running"):
        r = create(caller)
        assert r.status_code == 202, r.text
        iid = r.json()["id"]
        with engine.session() as s:
            s.get(models.Instance, iid).status = status
        return iid

    return make


def put(client, caller, iid, groups):
    return client.put(
        f"/v1/instances/{iid}/security_groups",
        json={"security_groups": groups},
        headers=caller.headers,
    )


def groups_of(iid):
    with engine.session() as s:
        return secgroups_db.groups_for_instance(s, iid)


def test_the_groups_are_replaced_and_a_task_applies_them(
    client, member, group, instance, sched
):
    iid = instance(member)
    before = groups_of(iid)
    web, db = group(member, "web"), group(member, "db")
    r = put(client, member, iid, [db, web])
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["id"] == iid and body["security_groups"] == [db, web]
    assert sched.casts == [(body["task_id"], iid, before)]
    assert groups_of(iid) == [db, web]
    with engine.session() as s:
        t = s.get(models.Task, body["task_id"])
        assert (t.resource_type, t.action, t.status) == (
            "instance",
            "update_security_groups",
            "queued",
        )
    got = client.get(f"/v1/instances/{iid}", headers=member.headers).json()
    assert got["security_groups"] == [db, web]
    # Again, the same set: the same result, another task.
    r = put(client, member, iid, [db, web])
    assert r.status_code == 202 and groups_of(iid) == [db, web]
    assert sched.casts[-1][2] == [db, web]


@pytest.mark.parametrize(
    "status", ["pending", "scheduling", "starting", "shuttingdown", "error"]
)
def test_409_while_it_is_built_or_deleted(
    client, member, group, instance, sched, status
):
    iid = instance(member, status)
    before = groups_of(iid)
    err = assert_error(
        put(client, member, iid, [group(member, "web")]), 409, "conflict"
    )
    assert status in err["message"]
    assert groups_of(iid) == before and sched.casts == []


def test_422_names_the_group_that_is_not_the_accounts(
    client, member, make_user, group, instance, sched
):
    iid = instance(member)
    before = groups_of(iid)
    theirs = group(make_user("member"), "theirs")
    mine = group(member, "mine")
    err = assert_error(put(client, member, iid, [mine, theirs]), 422)
    assert theirs in err["message"]
    err = assert_error(put(client, member, iid, ["sg-nothere"]), 422)
    assert "sg-nothere" in err["message"]
    assert_error(put(client, member, iid, []), 422)
    six = [group(member, f"g{n}") for n in range(6)]
    assert_error(put(client, member, iid, six), 422)
    assert groups_of(iid) == before and sched.casts == []


def test_who_may_change_them(
    client, member, make_user, admin, group, instance, sched
):
    iid = instance(member)
    web = group(member, "web")
    reader = make_user("reader", account_id=member.account_id)
    assert_error(put(client, reader, iid, [web]), 403)
    assert_error(put(client, make_user("member"), iid, [web]), 404)
    assert_error(put(client, member, "i-nothere", [web]), 404)
    # An admin changes any instance's, among the instance's account's.
    assert put(client, admin, iid, [web]).status_code == 202
    with engine.session() as s:
        s.execute(
            sa.update(models.Instance)
            .where(models.Instance.id == iid)
            .values(status="terminated")
        )
    assert_error(put(client, member, iid, [web]), 404)


def test_no_bus_is_503_and_the_groups_stay_recorded(
    client, member, group, instance, sched
):
    iid = instance(member)
    web = group(member, "web")
    sched.fail = True
    err = assert_error(put(client, member, iid, [web]), 503)
    assert "repeat the request" in err["message"]
    assert groups_of(iid) == [web]
