"""The database's share of a cycle's floor: as many statements and commits
as one boot+delete cycle makes (tests/functional/test_cycle_budget.py
counts them), sent with raw PyMySQL, no ORM, no Arame, to a table shaped
like a task row. Real statements join and read wider rows, so this is a
lower bound on what the same work costs."""

import datetime as dt
import itertools
import uuid

import pymysql

from .run import Deadline, run_threads

_TABLE = (
    "CREATE TABLE IF NOT EXISTS floor_rows ("
    " id CHAR(36) PRIMARY KEY,"
    " status VARCHAR(16) NOT NULL,"
    " owner VARCHAR(64),"
    " n INT NOT NULL,"
    " body VARCHAR(255),"
    " updated_at DATETIME(6) NOT NULL"
    ") ENGINE=InnoDB"
)
_INSERT = (
    "INSERT INTO floor_rows (id, status, owner, n, body, updated_at)"
    " VALUES (%s, %s, %s, %s, %s, %s)"
)
_SELECT = (
    "SELECT id, status, owner, n, body, updated_at FROM floor_rows"
    " WHERE id = %s"
)
_UPDATE = (
    "UPDATE floor_rows SET status = %s, n = n + 1, updated_at = %s"
    " WHERE id = %s"
)
_DELETE = "DELETE FROM floor_rows WHERE id = %s"


def plan(mix: dict[str, int], transactions: int) -> list[list[str]]:
    """One cycle's statements ('I', 'S', 'U', 'D') in `transactions`
    commits: the inserts first (a row is written before it is read), the
    reads and updates interleaved, the delete last."""
    body = list(
        itertools.chain.from_iterable(
            itertools.zip_longest("S" * mix["S"], "U" * mix["U"])
        )
    )
    ops = ["I"] * mix["I"] + [o for o in body if o] + ["D"] * mix["D"]
    size, extra = divmod(len(ops), transactions)
    out, at = [], 0
    for t in range(transactions):
        n = size + (1 if t < extra else 0)
        out.append(ops[at : at + n])
        at += n
    return [t for t in out if t]


def _cycle(conn, txns: list[list[str]]) -> None:
    ids: list[str] = []
    turn = 0
    with conn.cursor() as c:
        for txn in txns:
            for op in txn:
                now = dt.datetime.utcnow()
                if op == "I":
                    ids.append(str(uuid.uuid4()))
                    c.execute(
                        _INSERT, (ids[-1], "queued", None, 0, "x" * 120, now)
                    )
                    continue
                row = ids[turn % len(ids)]
                turn += 1
                if op == "S":
                    c.execute(_SELECT, (row,))
                    c.fetchall()
                elif op == "U":
                    c.execute(_UPDATE, ("running", now, row))
                else:
                    c.execute(_DELETE, (row,))
            conn.commit()


class SQLFloor:
    """`concurrency` threads, one connection each, running cycles."""

    def __init__(
        self,
        connect: dict,
        mix: dict[str, int],
        transactions: int,
        concurrency: int,
    ):
        self.txns = plan(mix, transactions)
        self.conns = [
            pymysql.connect(autocommit=False, **connect)
            for _ in range(concurrency)
        ]
        with self.conns[0].cursor() as c:
            c.execute(_TABLE)
        self.conns[0].commit()

    def pids(self) -> dict[int, str]:
        return {}  # the clients are this process's threads

    def warm(self) -> None:
        for conn in self.conns:
            _cycle(conn, self.txns)

    def run(self, cycles: int, deadline: Deadline) -> int:
        return run_threads(
            [lambda c=c: _cycle(c, self.txns) for c in self.conns],
            cycles,
            deadline,
        )

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
