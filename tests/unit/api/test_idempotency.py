"""`Idempotency-Key` on POST: the same key returns the first answer and does
the work once."""

import pytest
import sqlalchemy as sa

from arame.common.db import engine, models


def instance_count():
    with engine.session() as s:
        return s.scalar(
            sa.select(sa.func.count()).select_from(models.Instance)
        )


def test_same_key_twice_creates_one_instance(admin, create, scheduler):
    first = create(admin, headers={"Idempotency-Key": "k-1"})
    again = create(admin, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert instance_count() == 1
    assert scheduler.methods() == ["build_instance"]


def test_different_keys_create_different_instances(admin, create):
    a = create(admin, headers={"Idempotency-Key": "k-1"}).json()["id"]
    b = create(admin, headers={"Idempotency-Key": "k-2"}).json()["id"]
    assert a != b and instance_count() == 2


def test_same_key_with_another_body_is_422(admin, create, error_of):
    create(admin, name="web-1", headers={"Idempotency-Key": "k-1"})
    r = create(admin, name="web-2", headers={"Idempotency-Key": "k-1"})
    err = error_of(r, 422, "invalid")
    assert "Idempotency-Key" in err["message"]
    assert instance_count() == 1


def test_keys_belong_to_one_account(admin, member, create):
    a = create(admin, headers={"Idempotency-Key": "shared"})
    b = create(member, headers={"Idempotency-Key": "shared"})
    assert a.status_code == b.status_code == 202
    assert a.json()["id"] != b.json()["id"]
    assert b.json()["account_id"] == member.account_id


def test_a_failed_first_attempt_frees_the_key(admin, create, error_of):
    error_of(
        create(admin, flavor="huge", headers={"Idempotency-Key": "k"}), 422
    )
    r = create(admin, flavor="huge", headers={"Idempotency-Key": "k"})
    error_of(r, 422)  # retried, not replayed
    ok = create(admin, headers={"Idempotency-Key": "k"})
    assert ok.status_code == 202 and instance_count() == 1


def test_same_key_while_the_first_request_runs_is_409(
    admin, cloud, create, error_of
):
    from arame.api import idempotency
    from arame.api.schemas.instances import InstanceCreate

    body = InstanceCreate(name="web-1", flavor="small", image=cloud.image_id)
    with engine.session() as s:  # the first request has not answered yet
        s.add(
            models.IdempotencyKey(
                account_id="a-admin",
                key="busy",
                request_hash=idempotency.fingerprint(
                    "POST", "/v1/instances", body.model_dump()
                ),
            )
        )
    err = error_of(create(admin, headers={"Idempotency-Key": "busy"}), 409)
    assert instance_count() == 0
    assert "Idempotency-Key" in err["message"]


def test_an_expired_key_may_be_reused(admin, create):
    import datetime as dt

    first = create(admin, headers={"Idempotency-Key": "old"}).json()["id"]
    with engine.session() as s:
        s.execute(
            sa.update(models.IdempotencyKey).values(
                created_at=models.utcnow() - dt.timedelta(hours=25)
            )
        )
    second = create(admin, headers={"Idempotency-Key": "old"}).json()["id"]
    assert first != second and instance_count() == 2


def test_actions_are_idempotent_too(client, admin, create, scheduler):
    iid = create(admin).json()["id"]
    with engine.session() as s:
        s.get(models.Instance, iid).status = "running"
    h = {**admin.headers, "Idempotency-Key": "stop-1"}
    a = client.post(
        f"/v1/instances/{iid}/actions", json={"action": "stop"}, headers=h
    )
    # Replayed, not a 409 although the instance is now stopping.
    b = client.post(
        f"/v1/instances/{iid}/actions", json={"action": "stop"}, headers=h
    )
    assert a.status_code == b.status_code == 202
    assert a.json() == b.json()
    assert scheduler.methods() == ["build_instance", "instance_action"]


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_empty_or_overlong_key_is_refused(admin, create, key):
    r = create(admin, headers={"Idempotency-Key": key})
    assert r.status_code in (400, 422)
    assert instance_count() == 0
