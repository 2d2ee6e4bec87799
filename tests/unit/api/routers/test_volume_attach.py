"""POST /v1/volumes/{id}/actions attach / detach: what the API decides
before the scheduler runs the flow (states, accounts, provider, the limit
per instance), and what it writes (the volume's busy state, the task)."""

import pytest
import sqlalchemy as sa

from arame.common import ids
from arame.common.db import engine, models


class RecordingScheduler:
    """The scheduler's casts: (method, task_id, volume_id)."""

    def __init__(self):
        self.casts: list[tuple] = []

    def __getattr__(self, method):
        def cast(ctxt, task_id, resource_id):
            self.casts.append((method, task_id, resource_id))

        return cast


@pytest.fixture
def sched(monkeypatch):
    from arame.api.routers import volumes as volumes_router

    rec = RecordingScheduler()
    monkeypatch.setattr(volumes_router.service, "_scheduler", rec)
    return rec


def put_volume(account_id="a-admin", status="available", **values) -> str:
    vid = ids.generate("volume")
    now = models.utcnow()
    with engine.session() as s:
        s.add(
            models.Volume(
                id=vid,
                name="v",
                account_id=account_id,
                size_gb=1,
                status=status,
                storage_node="st1",
                created_at=now,
                updated_at=now,
                **values,
            )
        )
    return vid


def row(model, key):
    with engine.session() as s:
        return s.get(model, key)


def act(client, caller, vid, **body):
    return client.post(
        f"/v1/volumes/{vid}/actions", json=body, headers=caller.headers
    )


@pytest.fixture
def running(add_instance):
    def make(account_id="a-admin", status="running"):
        iid, _ = add_instance(account_id=account_id, status=status, host="hv1")
        return iid

    return make


def test_attach_answers_202_moves_to_attaching_and_casts(
    client, admin, sched, running
):
    iid, vid = running(), put_volume()
    r = act(client, admin, vid, action="attach", instance_id=iid)
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["status"], body["instance_id"]) == ("attaching", iid)
    assert sched.casts == [("attach_volume", body["task_id"], vid)]
    task = row(models.Task, body["task_id"])
    assert (task.action, task.resource_type, task.status) == (
        "attach",
        "volume",
        "queued",
    )


def test_attach_to_a_stopped_instance_is_accepted(
    client, admin, sched, running
):
    r = act(
        client,
        admin,
        put_volume(),
        action="attach",
        instance_id=running(status="stopped"),
    )
    assert r.status_code == 202, r.text


@pytest.mark.parametrize(
    "status",
    ["pending", "starting", "stopping", "shuttingdown", "terminated", "error"],
)
def test_attach_to_an_instance_in_another_state_is_409_with_it(
    client, admin, sched, running, error_of, status
):
    vid = put_volume()
    err = error_of(
        act(
            client,
            admin,
            vid,
            action="attach",
            instance_id=running(status=status),
        ),
        409,
    )
    assert err["details"]["status"] == status
    assert sched.casts == []
    assert row(models.Volume, vid).status == "available"


@pytest.mark.parametrize(
    "status",
    [
        "pending",
        "creating",
        "attaching",
        "attached",
        "detaching",
        "error",
        "deleted",
    ],
)
def test_attach_of_a_volume_not_available_is_409(
    client, admin, sched, running, error_of, status
):
    vid = put_volume(status=status)
    err = error_of(
        act(client, admin, vid, action="attach", instance_id=running()), 409
    )
    assert err["details"]["status"] == status


def test_a_root_volume_is_neither_attached_nor_detached(
    client, admin, sched, running, error_of
):
    iid = running()
    vid = put_volume(status="attached", root_of=iid, instance_id=iid)
    error_of(act(client, admin, vid, action="detach"), 409)
    err = error_of(
        act(client, admin, vid, action="attach", instance_id=running()), 409
    )
    assert "root volume" in err["message"]
    assert sched.casts == []


def test_another_accounts_instance_is_404_for_a_member(
    client, member, make_user, sched, running, error_of
):
    other = make_user("member")
    vid = put_volume(account_id=member.account_id)
    error_of(
        act(
            client,
            member,
            vid,
            action="attach",
            instance_id=running(account_id=other.account_id),
        ),
        404,
    )
    error_of(
        act(client, member, vid, action="attach", instance_id="i-zzzzzzzz"),
        404,
    )


def test_volume_and_instance_of_different_accounts_is_409_even_for_admin(
    client, admin, member, sched, running, error_of
):
    vid = put_volume(account_id=member.account_id)
    err = error_of(
        act(client, admin, vid, action="attach", instance_id=running()), 409
    )
    assert "different accounts" in err["message"]


def test_a_reader_may_not_attach(client, make_user, sched, running, error_of):
    reader = make_user("reader")
    vid = put_volume(account_id=reader.account_id)
    iid = running(account_id=reader.account_id)
    error_of(act(client, reader, vid, action="attach", instance_id=iid), 403)
    assert sched.casts == []


def test_bare_metal_instances_take_no_volumes(
    client, admin, sched, running, error_of
):
    iid = running()
    with engine.session() as s:
        s.execute(
            sa.update(models.Instance)
            .where(models.Instance.id == iid)
            .values(provider="bm")
        )
    err = error_of(
        act(client, admin, put_volume(), action="attach", instance_id=iid), 409
    )
    assert err["details"]["provider"] == "bm"


def test_at_most_max_volumes_per_instance(
    client, admin, sched, running, error_of, monkeypatch
):
    from arame.api.services import volumes as service

    monkeypatch.setattr(service, "max_volumes", lambda: 2)
    iid = running()
    put_volume(status="attached", instance_id=iid, device="vdc")
    # The root volume does not count.
    put_volume(status="attached", instance_id=iid, root_of=iid)
    assert (
        act(
            client, admin, put_volume(), action="attach", instance_id=iid
        ).status_code
        == 202
    )
    err = error_of(
        act(client, admin, put_volume(), action="attach", instance_id=iid), 409
    )
    assert err["details"]["limit"] == 2


def test_detach_answers_202_and_casts(client, admin, sched, running):
    iid = running()
    vid = put_volume(status="attached", instance_id=iid, device="vdc")
    r = act(client, admin, vid, action="detach")
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "detaching"
    assert sched.casts == [("detach_volume", r.json()["task_id"], vid)]


@pytest.mark.parametrize(
    "status", ["available", "attaching", "detaching", "error"]
)
def test_detach_of_a_volume_not_attached_is_409(
    client, admin, sched, error_of, status
):
    err = error_of(
        act(client, admin, put_volume(status=status), action="detach"), 409
    )
    assert err["details"]["status"] == status
    assert sched.casts == []


def test_bus_down_ends_the_task_and_the_volume_at_once(
    client, admin, running, monkeypatch, error_of
):
    from arame.api.routers import volumes as volumes_router

    class Down:
        def attach_volume(self, *a):
            raise ConnectionError("no broker")

    monkeypatch.setattr(volumes_router.service, "_scheduler", Down())
    vid = put_volume()
    error_of(
        act(client, admin, vid, action="attach", instance_id=running()), 503
    )
    assert row(models.Volume, vid).status == "error"


def test_the_real_proxy_casts_at_version_1_3(bus):
    from arame.scheduler.rpcapi import SchedulerAPI

    sent = []

    class Prepared:
        def __init__(self, version):
            self.version = version

        def cast(self, ctxt, method, **kw):
            sent.append((self.version, method, kw))

    casts = SchedulerAPI()
    casts.client = type(
        "C", (), {"prepare": lambda self, version: Prepared(version)}
    )()
    casts.attach_volume({}, "t-1", "vol-1")
    casts.detach_volume({}, "t-2", "vol-1")
    assert sent == [
        ("1.3", "attach_volume", {"task_id": "t-1", "volume_id": "vol-1"}),
        ("1.3", "detach_volume", {"task_id": "t-2", "volume_id": "vol-1"}),
    ]
