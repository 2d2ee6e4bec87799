"""A request that meets a deadlock or a lost connection runs again; one
the database stays away from is a 503 with a message, never a 500; and
nothing is made twice."""

import pymysql
import pytest
import sqlalchemy as sa

from arame.api.routers import instances as instances_router
from arame.common.db import engine, models


def mysql_error(code: int, text: str) -> sa.exc.OperationalError:
    return sa.exc.OperationalError(
        "UPDATE quotas ...", {}, pymysql.err.OperationalError(code, text)
    )


@pytest.fixture
def flaky_create(monkeypatch):
    """The service's create fails with `errors` (in order) before it runs."""
    real = instances_router.service.create
    pending: list[Exception] = []

    def create(ctxt, req):
        if pending:
            raise pending.pop(0)
        return real(ctxt, req)

    monkeypatch.setattr(instances_router.service, "create", create)
    return pending


def instance_count():
    with engine.session() as s:
        return s.scalar(
            sa.select(sa.func.count()).select_from(models.Instance)
        )


@pytest.mark.parametrize(
    "code,text",
    [
        (1213, "Deadlock found when trying to get lock"),
        (1205, "Lock wait timeout exceeded"),
        (2013, "Lost connection to MySQL server during query"),
        (2006, "MySQL server has gone away"),
    ],
)
def test_a_transient_failure_is_retried_and_the_request_lands_once(
    flaky_create, create, member, scheduler, code, text
):
    flaky_create.extend([mysql_error(code, text), mysql_error(code, text)])
    before = instance_count()
    r = create(member)
    assert r.status_code == 202, r.text
    assert flaky_create == []
    assert instance_count() == before + 1
    assert scheduler.methods() == ["build_instance"]


def test_a_database_that_stays_away_is_a_503_with_a_message(
    flaky_create, create, member, config, error_of
):
    config("retry_seconds", 0.3, group="database")
    flaky_create.extend(
        [mysql_error(2003, "Can't connect to MySQL server")] * 1000
    )
    r = create(member)
    error_of(r, 503, "service_unavailable")
    assert "database is not reachable" in r.json()["error"]["message"]
    assert r.headers["Retry-After"] == "2"


def test_a_failure_after_a_commit_is_not_run_again(
    monkeypatch, create, member, config, error_of
):
    # The instance and its task committed; a later read lost the server:
    # running the request again would make a second instance.
    config("retry_seconds", 5, group="database")
    real = instances_router.service.create
    calls = []

    def create_then_fail(ctxt, req):
        calls.append(1)
        real(ctxt, req)
        raise mysql_error(2013, "Lost connection to MySQL server")

    monkeypatch.setattr(instances_router.service, "create", create_then_fail)
    before = instance_count()
    r = create(member)
    error_of(r, 503, "service_unavailable")
    assert calls == [1]
    assert instance_count() == before + 1


def test_an_error_that_is_not_transient_is_not_retried(
    flaky_create, create, member
):
    flaky_create.append(mysql_error(1054, "Unknown column"))
    flaky_create.append(mysql_error(1054, "Unknown column"))
    r = create(member)
    assert r.status_code == 500
    assert len(flaky_create) == 1
