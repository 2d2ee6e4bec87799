"""The pure parts of `control_plane.py --peer nova`: the arguments, what
the CPU per cycle sums, the ratios and the report's text. Nothing here
installs or starts Nova."""

import control_plane
import pytest
from lib import side_by_side as sbs


def _cpu(daemons, db=10.0, broker=20.0, gen=5.0):
    out = dict(daemons)
    out.update(
        {"mariadbd": db, "beam.smp": broker, "bench (load generator)": gen}
    )
    return {"cpu_ms_per_cycle": out}


def _load(rate, p50, ok=200):
    return {
        "cycles_ok": ok,
        "cycles_attempted": ok,
        "success_rate": 1.0,
        "cycles_per_s": rate,
        "api_to_running_ms": {"p50": p50, "p95": p50 * 2},
        "delete_ms": {"p50": p50 / 2},
        "http_requests_per_cycle": 6.0,
        "errors": {},
        "wall_s": ok / rate,
    }


def test_peer_defaults_pair_size_and_skip_the_references():
    a = control_plane.parse_args(["--peer", "nova"])
    assert (a.hosts, a.cycles, a.concurrency) == (50, 200, 10)
    assert a.warmup == 10
    assert a.refs is False
    assert a.peer_dir == "/var/tmp/arame-nova-peer"
    assert a.peer_poll == 0.1


def test_without_peer_the_defaults_are_unchanged():
    a = control_plane.parse_args([])
    assert (a.hosts, a.cycles, a.concurrency) == (100, 500, 20)
    assert a.refs is True
    assert a.peer is None


def test_explicit_sizes_win_over_the_pair_defaults():
    a = control_plane.parse_args(
        [
            "--peer",
            "nova",
            "--hosts",
            "5",
            "--cycles",
            "7",
            "--concurrency",
            "3",
            "--peer-dir",
            "/tmp/p",
        ]
    )
    assert (a.hosts, a.cycles, a.concurrency, a.warmup) == (5, 7, 3, 3)
    assert a.peer_dir == "/tmp/p"


@pytest.mark.parametrize(
    "extra", [["--private-rabbit"], ["--refs-only"], ["--peer-poll", "0"]]
)
def test_peer_refuses_what_breaks_the_comparison(extra):
    with pytest.raises(SystemExit):
        control_plane.parse_args(["--peer", "nova", *extra])


def test_cpu_split_puts_every_process_in_one_bucket():
    split = sbs.cpu_split(
        {
            "api": 30.0,
            "scheduler-1": 12.0,
            "mariadbd": 10.0,
            "beam.smp (machine broker)": 20.0,
            "bench (load generator)": 5.0,
        }
    )
    assert split == {
        "control_plane": 42.0,
        "database_and_broker": 30.0,
        "load_generator": 5.0,
        "total": 77.0,
    }


def test_ratios_say_how_far_arame_is_ahead():
    arame = sbs.side(_load(10.0, 400.0), _cpu({"api": 100.0}))
    nova = sbs.side(_load(2.0, 3600.0), _cpu({"nova-api": 700.0}, db=65.0))
    r = sbs.ratios(arame, nova)
    assert r["throughput"] == pytest.approx(5.0)
    assert r["api_to_running_p50"] == pytest.approx(9.0)
    assert r["cpu_per_cycle_total"] == pytest.approx(
        (700 + 65 + 20 + 5) / (100 + 10 + 20 + 5)
    )
    assert r["cpu_per_cycle_control_plane"] == pytest.approx(7.0)


def test_ratios_of_a_missing_side_are_empty_and_zero_is_not_divided():
    arame = sbs.side(_load(10.0, 400.0), _cpu({"api": 100.0}))
    assert sbs.ratios(arame, None) == {}
    dead = sbs.side(_load(1.0, 0.0, ok=0) | {"cycles_per_s": 0.0}, {})
    assert sbs.ratios(arame, dead)["throughput"] is None


def test_compare_reads_both_sides_of_a_result():
    res = {
        "load": _load(10.0, 400.0),
        "cpu": _cpu({"api": 100.0}),
        "peer": {"load": _load(2.0, 3600.0), "cpu": _cpu({"n": 700.0})},
    }
    out = sbs.compare(res)
    assert out["arame"]["cycles_per_s"] == 10.0
    assert out["peer"]["api_to_running_p50_ms"] == 3600.0
    assert out["ratios"]["throughput"] == pytest.approx(5.0)


def test_the_comparison_text_names_both_sides_ratios_and_what_is_counted():
    res = {
        "load": _load(10.0, 400.0),
        "cpu": _cpu({"api": 100.0}),
        "peer": {"load": _load(2.0, 3600.0), "cpu": _cpu({"n": 700.0})},
    }
    args = {"hosts": 50, "cycles": 200, "concurrency": 10, "warmup": 10}
    info = {"versions": {"nova": "31.3.1"}, "poll_s": 0.1}
    text = "\n".join(
        sbs.format_comparison(sbs.compare(res), "nova", args, info)
    )
    assert "Nova (nova 31.3.1): 50 fake hosts each, 200 cycles" in text
    assert "polled every 100 ms" in text
    assert "long-polled" in text
    assert "5.0x" in text and "9.0x" in text
    assert "mariadbd" in text and "beam.smp" in text
    flat = " ".join(text.split())
    assert "Arame: api. Nova: n (each the whole tree" in flat
    row = next(line for line in text.splitlines() if "cycles/s" in line)
    assert row.split()[-3:] == ["10.00", "2.00", "5.0x"]


def test_the_comparison_text_says_when_a_side_is_missing():
    res = {"load": _load(10.0, 400.0), "cpu": _cpu({"api": 1.0})}
    args = {"hosts": 5, "cycles": 7, "concurrency": 3, "warmup": 3}
    text = "\n".join(sbs.format_comparison(sbs.compare(res), "nova", args, {}))
    assert "incomplete: Arame ok, Nova missing" in text
    assert "n/a" in text


def test_the_peer_block_lists_cpu_per_group_and_failures():
    peer = {
        "name": "nova",
        "computes": 50,
        "peer_dir": "/var/tmp/p",
        "oslo_messaging_reply_fix": True,
        "startup_s": 80.0,
        "load": _load(2.0, 3600.0) | {"errors": {"server ERROR: x": 2}},
        "cpu": {
            "machine_busy_fraction": 0.9,
            "per_process_cores": {"nova-compute (x50)": 0.5},
            "other_cores": 0.1,
            "cpu_ms_per_cycle": {"nova-compute (x50)": 250.0},
        },
        "teardown_error": "PeerError: boom",
    }
    text = "\n".join(sbs.format_peer(peer))
    assert "Nova peer: 50 fake computes" in text
    assert "2 x server ERROR: x" in text
    assert "nova-compute (x50)" in text and "250.0 ms CPU per cycle" in text
    assert "teardown: PeerError: boom" in text
