"""A COMMIT that lost its connection is asked again: carried on when its
row is there, raised (safe to retry) when it is not, counted as committed
when nothing tells; and the errors a Galera failover raises are transient.
"""

import pymysql
import pytest
import sqlalchemy as sa

from arame.common.db import commit_probe, engine, models, retry

PROBE = commit_probe.Probe("instances", ("id",), ("i-12345678",))


def lost() -> pymysql.err.OperationalError:
    return pymysql.err.OperationalError(
        2013, "Lost connection to MySQL server during query"
    )


class FakeCursor:
    def __init__(self, conn):
        self.conn = conn

    def execute(self, sql, params=None):
        self.conn.statements.append((sql, params))

    def fetchone(self):
        return (1,) if self.conn.row_there else None

    def close(self):
        pass


class FakeConn:
    def __init__(self, row_there=True, refuse=0, commit_error=None):
        self.row_there, self.refuse = row_there, refuse
        self.commit_error = commit_error
        self.statements: list = []
        self.pings = 0

    def ping(self, reconnect=False):
        assert reconnect
        self.pings += 1
        if self.refuse:
            self.refuse -= 1
            raise pymysql.err.OperationalError(2003, "Can't connect")

    def cursor(self):
        return FakeCursor(self)

    def rollback(self):
        pass

    def commit(self):
        if self.commit_error is not None:
            raise self.commit_error


class FakeDialect:
    def __init__(self):
        self.levels = []

    def set_isolation_level(self, conn, level):
        self.levels.append(level)

    def do_commit(self, conn):
        conn.commit()


class FakeEngine:
    def __init__(self):
        self.dialect = FakeDialect()


@pytest.mark.parametrize("there", [True, False])
def test_the_row_says_whether_it_committed(there):
    conn, dialect = FakeConn(row_there=there), FakeDialect()
    assert commit_probe.committed(conn, dialect, PROBE, limit=5) is there
    sqls = [s for s, _ in conn.statements]
    # A causal read on Galera, back to the default after.
    assert sqls[0] == "SET SESSION wsrep_sync_wait = 1"
    assert sqls[1] == "SELECT 1 FROM `instances` WHERE `id` = %s"
    assert conn.statements[1][1] == ("i-12345678",)
    assert sqls[2] == "SET SESSION wsrep_sync_wait = DEFAULT"
    assert dialect.levels == [commit_probe.ISOLATION]


def test_a_database_still_away_is_asked_again_then_unknown():
    conn = FakeConn(refuse=2)
    assert commit_probe.committed(conn, FakeDialect(), PROBE, limit=5)
    assert conn.pings == 3
    never = FakeConn(refuse=10**6)
    assert (
        commit_probe.committed(never, FakeDialect(), PROBE, limit=0.2) is None
    )


@pytest.mark.parametrize(
    "there,probe,raised,marked",
    [
        (True, PROBE, False, False),  # committed: carry on
        (False, PROBE, True, True),  # not committed: safe to retry
        (True, None, True, False),  # nothing to ask: unknown
    ],
)
def test_the_wrapped_commit(there, probe, raised, marked):
    eng = FakeEngine()
    commit_probe.install(eng)
    conn = FakeConn(row_there=there, commit_error=lost())
    with commit_probe.armed(probe):
        if raised:
            with pytest.raises(pymysql.err.OperationalError) as info:
                eng.dialect.do_commit(conn)
            assert commit_probe.ruled_out(info.value) is marked
        else:
            eng.dialect.do_commit(conn)


def test_a_deadlock_at_commit_is_not_asked_again():
    # Galera's certification failure: rolled back for sure.
    eng = FakeEngine()
    commit_probe.install(eng)
    deadlock = pymysql.err.OperationalError(1213, "Deadlock found")
    conn = FakeConn(commit_error=deadlock)
    with commit_probe.armed(PROBE), pytest.raises(type(deadlock)):
        eng.dialect.do_commit(conn)
    assert conn.pings == 0


@pytest.mark.parametrize(
    "code,transient,lost_it",
    [
        (1047, True, False),  # WSREP has not yet prepared node
        (1213, True, False),
        (2013, True, True),
        (2006, True, True),
        (1062, False, False),
    ],
)
def test_classification(code, transient, lost_it):
    err = sa.exc.OperationalError(
        "COMMIT", {}, pymysql.err.OperationalError(code, "x")
    )
    assert retry.is_transient(err) is transient
    assert retry.lost_connection(err) is lost_it


def _add_instance_like_row(s):
    s.add(
        models.IdempotencyKey(
            account_id="a-1",
            key="k",
            request_hash="h",
            created_at=models.utcnow(),
        )
    )


def test_a_flush_notes_the_first_inserted_row(db):
    with engine.session() as s:
        _add_instance_like_row(s)
        s.flush()
        probe = commit_probe.of_session(s)
    assert probe.table == "idempotency_keys"
    assert dict(zip(probe.columns, probe.values, strict=True)) == {
        "account_id": "a-1",
        "key": "k",
    }


def test_an_unknown_commit_counts_as_committed(db, monkeypatch):
    """The request that met it is not run again (api/db_retry.py)."""

    def commit(self):
        raise sa.exc.OperationalError(
            "COMMIT", {}, lost(), connection_invalidated=True
        )

    token = retry.count_commits()
    try:
        monkeypatch.setattr(sa.orm.Session, "commit", commit)
        with pytest.raises(sa.exc.OperationalError):
            with engine.session() as s:
                _add_instance_like_row(s)
        assert retry.committed()
    finally:
        retry.stop_counting(token)


def test_a_commit_ruled_out_may_run_again(db, monkeypatch):
    def commit(self):
        e = lost()
        e.arame_not_committed = True
        raise sa.exc.OperationalError(
            "COMMIT", {}, e, connection_invalidated=True
        )

    token = retry.count_commits()
    try:
        monkeypatch.setattr(sa.orm.Session, "commit", commit)
        with pytest.raises(sa.exc.OperationalError):
            with engine.session() as s:
                _add_instance_like_row(s)
        assert not retry.committed()
    finally:
        retry.stop_counting(token)
