"""The pure parts of `cycle_floor.py`: how one cycle's statements are laid
out in its commits, and the arithmetic of the report. The measuring itself
needs MariaDB and RabbitMQ and is a benchmark, run by hand."""

import cycle_floor
from lib.floor_sql import plan


def test_a_cycle_makes_every_statement_in_as_many_commits_as_asked():
    mix = {"S": 42, "U": 20, "I": 12, "D": 1}
    txns = plan(mix, 17)
    assert len(txns) == 17
    ops = [op for t in txns for op in t]
    assert {k: ops.count(k) for k in mix} == mix
    # Rows are written before they are read or changed, the delete last.
    assert ops[:12] == ["I"] * 12
    assert ops[-1] == "D"
    # Commits are of even size: no commit carries the whole cycle.
    sizes = [len(t) for t in txns]
    assert max(sizes) - min(sizes) <= 1


def test_more_commits_than_statements_makes_no_empty_transaction():
    txns = plan({"S": 1, "U": 0, "I": 1, "D": 0}, 5)
    assert txns == [["I"], ["S"]]


def test_the_report_sums_the_parts_and_sets_them_beside_the_goal(capsys):
    args = cycle_floor.build_parser().parse_args(["--arame-ms", "160"])
    part = {
        "cycles": 100,
        "wall_s": 1.0,
        "cycles_per_s": 100.0,
        "machine_busy_cores": 1.8,
    }
    out = {
        "args": vars(args),
        "parts": {
            "sql": dict(
                part,
                cpu_ms_per_cycle={"mariadbd": 6.0, "clients": 7.0},
                total_ms=13.0,
            ),
            "bus": dict(
                part,
                cpu_ms_per_cycle={"beam.smp": 6.0, "server": 14.0},
                total_ms=20.0,
            ),
            "http": dict(
                part,
                cpu_ms_per_cycle={"server": 3.0, "clients": 4.0},
                total_ms=7.0,
            ),
        },
        "floor_ms": 40.0,
    }
    cycle_floor.report(out, args)
    text = capsys.readouterr().out
    assert "42 SELECT, 20 UPDATE, 12 INSERT, 1 DELETE in 17 commits" in text
    assert "floor, all parts: 40.0 ms" in text
    assert "floor / goal 1.00" in text
    assert "Arame / floor 4.00" in text
