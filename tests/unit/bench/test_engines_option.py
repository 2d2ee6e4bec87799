"""control_plane.py --engines: its defaults and refusals, the sittings it
runs, and how the comparison sorts the CPU it counts. No process is
started."""

import control_plane
import pytest
from lib import cluster_engines, engines_compare

from arame.deploy.infra.galera import GaleraCluster


def test_single_is_the_default_and_keeps_the_old_defaults():
    a = control_plane.parse_args([])
    assert a.engines == "single"
    assert (a.hosts, a.cycles, a.concurrency, a.refs) == (100, 500, 20, True)


@pytest.mark.parametrize("engines", ["cluster", "both"])
def test_clustered_runs_default_to_a_shorter_run_without_references(engines):
    a = control_plane.parse_args(["--engines", engines])
    assert (a.hosts, a.cycles, a.concurrency) == (100, 300, 15)
    assert a.refs is False
    assert a.warmup == 15
    assert control_plane.SITTINGS[engines][-1] == "cluster"


def test_both_runs_single_then_cluster():
    assert control_plane.SITTINGS["both"] == ("single", "cluster")


@pytest.mark.parametrize(
    "extra", [["--peer", "nova"], ["--private-rabbit"], ["--refs-only"]]
)
def test_clustered_runs_refuse_what_needs_the_machine_broker(extra):
    with pytest.raises(SystemExit):
        control_plane.parse_args(["--engines", "both", *extra])


def test_main_runs_each_sitting_and_compares(monkeypatch, capsys):
    seen = []

    def fake_sitting(args, deadline, kind):
        seen.append((kind, deadline.left() > 0))
        rate = {"single": 10.0, "cluster": 4.0}[kind]
        return _result(rate, {"api": 50.0, "mariadbd": 20.0}), 0

    monkeypatch.setattr(control_plane, "run_sitting", fake_sitting)
    # Each sitting's own report is report.py's (covered by its use).
    monkeypatch.setattr(control_plane.report, "print_report", lambda r: None)
    rc = control_plane.main(["--engines", "both", "--max-seconds", "60"])
    assert rc == 0
    assert seen == [("single", True), ("cluster", True)]
    text = capsys.readouterr().out
    assert "single vs clustered engines" in text
    assert "0.40x" in text  # throughput, cluster / single


def _result(rate: float, per_cycle: dict) -> dict:
    return {
        "args": {"concurrency": 15},
        "machine": {"loadavg_at_start": (0.1, 0.2, 0.3)},
        "load": {
            "cycles_ok": 300,
            "cycles_attempted": 300,
            "success_rate": 1.0,
            "cycles_per_s": rate,
            "api_to_running_ms": {"p50": 400.0, "p95": 900.0},
            "delete_ms": {"p50": 200.0},
        },
        "cpu": {"cpu_ms_per_cycle": per_cycle, "other_cores": 0.1},
    }


def test_cpu_split_puts_every_engine_process_with_its_engine():
    split = engines_compare.cpu_split(
        {
            "api": 40.0,
            "scheduler-1": 10.0,
            "beam.smp (arame-bench-x-1)": 5.0,
            "beam.smp (arame-bench-x-2)": 3.0,
            "mariadbd (node1)": 6.0,
            "mariadbd (node2)": 2.0,
            "haproxy": 1.0,
            "galera_check": 0.5,
            "bench (load generator)": 20.0,
        }
    )
    assert split == {
        "control_plane": 50.0,
        "database": 9.5,
        "broker": 8.0,
        "load_generator": 20.0,
        "engines": 17.5,
        "total": 87.5,
    }


def test_ratios_are_cluster_over_single():
    single = engines_compare.side(_result(10.0, {"api": 50.0, "beam.smp": 10}))
    cluster = engines_compare.side(
        _result(5.0, {"api": 60.0, "beam.smp (n1)": 30.0})
    )
    r = engines_compare.ratios(single, cluster)
    assert r["throughput"] == 0.5
    assert r["cpu_per_cycle_broker"] == 3.0
    assert r["cpu_per_cycle_total"] == 1.5
    assert engines_compare.ratios(single, None) == {}


def test_engine_ports_skip_a_range_with_any_port_taken(monkeypatch):
    # 5812's distribution port answers: the first range must be skipped.
    taken = {5812 + 20000, 3511 + 6000 + 2}
    monkeypatch.setattr(
        cluster_engines, "port_open", lambda host, port: port in taken
    )
    assert cluster_engines.rabbit_first_port() == 5813
    assert cluster_engines.galera_first_port() == 3521


def test_galera_ports_are_the_ones_the_cluster_listens_on(tmp_path):
    c = GaleraCluster(str(tmp_path), nodes=3, first_port=3511)
    listened = {c.proxy_port}
    for name in c.nodes:
        n = c.node(name)
        listened |= {n.port, n.check_port}
        listened |= {n.gcomm_port, n.gcomm_port + 1, n.gcomm_port + 2}
    assert set(cluster_engines.galera_ports(3511)) == listened
