"""`Idempotency-Key` across a database failover: the reservation has
committed, so the work is run again by idempotency.run itself while it had
committed nothing; once it has, its key stays reserved (a retry is told
it is in progress, never does it twice)."""

import pymysql
import sqlalchemy as sa

from arame.api.routers import instances as instances_router
from arame.common.db import engine, models


def lost() -> sa.exc.OperationalError:
    return sa.exc.OperationalError(
        "COMMIT", {}, pymysql.err.OperationalError(2013, "Lost connection")
    )


def instance_count():
    with engine.session() as s:
        return s.scalar(
            sa.select(sa.func.count()).select_from(models.Instance)
        )


def test_work_that_committed_nothing_runs_again(
    monkeypatch, admin, create, scheduler
):
    real = instances_router.service.create
    calls = []

    def flaky(ctxt, req):
        calls.append(1)
        if len(calls) == 1:
            raise lost()
        return real(ctxt, req)

    monkeypatch.setattr(instances_router.service, "create", flaky)
    r = create(admin, headers={"Idempotency-Key": "f-1"})
    assert r.status_code == 202, r.text
    assert len(calls) == 2 and instance_count() == 1
    again = create(admin, headers={"Idempotency-Key": "f-1"})
    assert again.json() == r.json()


def test_work_that_committed_keeps_its_key(
    monkeypatch, admin, create, error_of, config
):
    config("retry_seconds", 2, group="database")
    real = instances_router.service.create

    def create_then_fail(ctxt, req):
        real(ctxt, req)
        raise lost()

    monkeypatch.setattr(instances_router.service, "create", create_then_fail)
    error_of(create(admin, headers={"Idempotency-Key": "f-2"}), 503)
    monkeypatch.setattr(instances_router.service, "create", real)
    error_of(create(admin, headers={"Idempotency-Key": "f-2"}), 409)
    assert instance_count() == 1
