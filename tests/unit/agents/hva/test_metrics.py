"""Guest metrics in hva: rates from two readings, the ring per guest (on a
fake clock), the RPC answer, the fake driver's counters and the
Prometheus exposition."""

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from arame.agents.hva import metrics, prometheus
from arame.agents.hva.drivers.fake import FakeDriver
from arame.agents.hva.manager import HypervisorManager, InvalidIdentifier
from tests.helpers.clocks import FakeClock

IID = "i-abcd1234"
GiB = 1 << 30


def reading(
    cpu_s=0.0,
    vcpus=2,
    disk_r=0,
    disk_w=0,
    rx=0,
    tx=0,
    used=256.0,
    account="a-acct0001",
    unit="",
):
    return {
        "cpu_time_ns": int(cpu_s * 1e9),
        "vcpus": vcpus,
        "memory_mb": 1024.0,
        "memory_used_mb": used,
        "disk_read_bytes": disk_r,
        "disk_write_bytes": disk_w,
        "net_rx_bytes": rx,
        "net_tx_bytes": tx,
        "account_id": account,
        "unit_id": unit,
    }


# -- rates -----------------------------------------------------------------


def test_rates_over_the_interval_and_the_vcpus():
    s = metrics.rates(
        reading(cpu_s=100.0, disk_r=1000, disk_w=0, rx=50, tx=7),
        reading(
            cpu_s=105.0, disk_r=11000, disk_w=4096, rx=2050, tx=7, used=300
        ),
        10.0,
        at=1234.0,
    )
    # 5 s of CPU in 10 s over 2 vcpus: a quarter of the guest busy.
    assert s.cpu_percent == 25.0
    assert (s.disk_read_bps, s.disk_write_bps) == (1000.0, 409.6)
    assert (s.net_rx_bps, s.net_tx_bps) == (200.0, 0.0)
    assert (s.memory_used_mb, s.memory_mb) == (300.0, 1024.0)
    assert s.at == 1234.0


def test_a_counter_that_went_back_counts_from_zero():
    """The guest's process started again between two readings (HA, a
    stop and start): what it counted since is its whole value."""
    s = metrics.rates(
        reading(cpu_s=500.0, disk_r=10**9),
        reading(cpu_s=1.0, disk_r=2000),
        10.0,
        at=0,
    )
    assert s.cpu_percent == 5.0
    assert s.disk_read_bps == 200.0


def test_cpu_over_the_vcpus_reads_as_all_busy():
    s = metrics.rates(reading(), reading(cpu_s=25.0), 10.0, at=0)
    assert s.cpu_percent == 100.0


@pytest.mark.parametrize("seconds", [0.0, -5.0])
def test_no_rate_when_time_did_not_move_forward(seconds):
    assert metrics.rates(reading(), reading(cpu_s=1), seconds, at=0) is None


# -- the ring --------------------------------------------------------------


def store(interval=10.0, retention=60.0, now=1000.0):
    clock = FakeClock(now)
    return metrics.MetricsStore(interval, retention, clock=clock.monotonic), (
        clock
    )


def test_the_first_reading_gives_no_sample_the_second_one():
    st, clock = store()
    st.record({IID: reading(cpu_s=0)})
    assert st.samples(IID) == []
    clock.advance(10)
    st.record({IID: reading(cpu_s=2)})
    [s] = st.samples(IID)
    assert (s.at, s.cpu_percent) == (1010.0, 10.0)


def test_the_ring_keeps_the_retention_and_no_more():
    st, clock = store(interval=10, retention=60)
    for n in range(20):
        st.record({IID: reading(cpu_s=n)})
        clock.advance(10)
    kept = st.samples(IID)
    # 60 s of 10 s samples: the newest, at the last reading, and six more.
    assert [s.at for s in kept] == [1130.0 + 10 * i for i in range(7)]
    # Faster readings than the interval never grow it past its bound.
    for n in range(100):
        st.record({IID: reading(cpu_s=20 + n)})
        clock.advance(0.1)
    assert len(st.samples(IID)) == st._maxlen == 7


def test_since_selects_the_later_samples():
    st, clock = store()
    for n in range(4):
        st.record({IID: reading(cpu_s=n)})
        clock.advance(10)
    assert [s.at for s in st.samples(IID, since=1010.0)] == [1020.0, 1030.0]
    assert st.samples(IID, since=5000.0) == []
    assert st.samples("i-zzzzzzzz") == []


def test_no_rate_spans_a_stop_and_a_stopped_guest_ages_out():
    st, clock = store(interval=10, retention=30)
    st.record({IID: reading(cpu_s=0)})
    clock.advance(10)
    st.record({IID: reading(cpu_s=1)})
    clock.advance(10)
    st.record({})  # stopped: no reading
    clock.advance(10)
    st.record({IID: reading(cpu_s=900)})  # started again: a first reading
    assert [s.at for s in st.samples(IID)] == [1010.0]
    assert [i for i, _l, r, _s in st.current() if r is not None] == [IID]
    clock.advance(10)
    st.record({})
    assert [r for _i, _l, r, _s in st.current()] == [None]
    clock.advance(30)
    st.record({})
    assert st.samples(IID) == [] and st.current() == []


def test_labels_follow_the_latest_reading():
    st, _ = store()
    st.record({IID: reading(account="a-one00001", unit="un-abcd1234")})
    [(iid, labels, _r, sample)] = st.current()
    assert labels == {"account": "a-one00001", "unit": "un-abcd1234"}
    assert sample is None


def test_sampling_off_makes_no_store(config):
    config("metrics_interval", 0, group="hva")
    assert metrics.MetricsStore.from_conf() is None
    config("metrics_interval", 5, group="hva")
    config("metrics_retention", 600, group="hva")
    st = metrics.MetricsStore.from_conf()
    assert (st.interval, st.retention) == (5, 600)


# -- the fake driver and the RPC answer -------------------------------------


def spawned(driver, **extra):
    driver.spawn(
        {
            "id": IID,
            "name": "m1",
            "hostname": "m1",
            "vcpus": 2,
            "memory_mb": 2048,
            "account_id": "a-acct0001",
            "unit_id": "un-unit0001",
            **extra,
        }
    )


def test_fake_guests_counters_grow_while_they_run(monkeypatch):
    from arame.agents.hva.drivers import fake

    now = [1000.0]
    monkeypatch.setattr(fake, "_clock", lambda: now[0])
    drv = FakeDriver("hv1", state_file="")
    spawned(drv)
    now[0] += 10
    first = drv.guest_stats()[IID]
    now[0] += 10
    second = drv.guest_stats()[IID]
    assert second["cpu_time_ns"] > first["cpu_time_ns"] > 0
    assert second["disk_read_bytes"] > first["disk_read_bytes"]
    assert (second["account_id"], second["unit_id"]) == (
        "a-acct0001",
        "un-unit0001",
    )
    s = metrics.rates(first, second, 10, at=now[0])
    assert s.cpu_percent == 20.0 and s.memory_mb == 2048
    drv.power_off(IID)
    assert drv.guest_stats() == {}


def manager_with(st):
    drv = FakeDriver("hv1", state_file="")
    return HypervisorManager("hv1", drv, notifier=None, metrics=st), drv


def test_get_metrics_answers_the_samples_after_since():
    st, clock = store(interval=10)
    mgr, drv = manager_with(st)
    spawned(drv)
    for _ in range(3):
        metrics.sample(drv, st)
        clock.advance(10)
    out = mgr.get_metrics({}, IID, since=None)
    assert out["instance_id"] == IID and out["interval"] == 10
    assert [s["at"] for s in out["samples"]] == [1010.0, 1020.0]
    assert set(out["samples"][0]) == {
        "at",
        "cpu_percent",
        "memory_used_mb",
        "memory_mb",
        "disk_read_bps",
        "disk_write_bps",
        "net_rx_bps",
        "net_tx_bps",
    }
    assert len(mgr.get_metrics({}, IID, since=1010.0)["samples"]) == 1


def test_get_metrics_with_sampling_off_and_bad_arguments():
    mgr, _ = manager_with(None)
    assert mgr.get_metrics({}, IID) == {
        "instance_id": IID,
        "interval": 0,
        "samples": [],
    }
    with pytest.raises(InvalidIdentifier):
        mgr.get_metrics({}, "../etc")
    with pytest.raises(InvalidIdentifier):
        mgr.get_metrics({}, IID, since="yesterday")


# -- Prometheus --------------------------------------------------------------


def exposition(stores) -> dict:
    """(sample name, instance) -> value, and the labels of each."""
    reg = CollectorRegistry()
    reg.register(prometheus.GuestCollector(stores))
    text = generate_latest(reg).decode()
    out = {}
    for fam in text_string_to_metric_families(text):
        for smp in fam.samples:
            out[smp.name, smp.labels["instance"]] = (smp.value, smp.labels)
    return out


def test_the_exposition_labels_every_running_guest():
    st, clock = store()
    unit = "un-unit0001"
    st.record(
        {
            IID: reading(cpu_s=12.5, disk_w=4096, rx=10, unit=unit),
            "i-stop0001": reading(),
        }
    )
    clock.advance(10)
    st.record({IID: reading(cpu_s=13, disk_w=8192, rx=20, unit=unit)})
    got = exposition({"hv1": st})
    value = {name: v for (name, _iid), (v, _labels) in got.items()}
    assert value == {
        "arame_guest_cpu_seconds_total": 13.0,
        "arame_guest_vcpus": 2.0,
        "arame_guest_memory_bytes": 1024.0 * 2**20,
        "arame_guest_memory_used_bytes": 256.0 * 2**20,
        "arame_guest_disk_read_bytes_total": 0.0,
        "arame_guest_disk_written_bytes_total": 8192.0,
        "arame_guest_network_receive_bytes_total": 20.0,
        "arame_guest_network_transmit_bytes_total": 0.0,
    }
    # Stopped since: it leaves the exposition.
    assert {iid for _name, iid in got} == {IID}
    assert {tuple(sorted(lbl.items())) for _v, lbl in got.values()} == {
        (
            ("account", "a-acct0001"),
            ("host", "hv1"),
            ("instance", IID),
            ("unit", unit),
        )
    }


def test_the_endpoint_serves_http(monkeypatch):
    import httpx

    from tests.helpers.ports import free_port

    st, _ = store()
    st.record({IID: reading(cpu_s=1)})
    port = free_port()
    ep = prometheus.PrometheusEndpoint(
        port, "127.0.0.1", prometheus.GuestCollector({"hv1": st})
    )
    ep.start()
    try:
        r = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    finally:
        ep.stop()
    assert r.status_code == 200
    assert 'instance="i-abcd1234"' in r.text
    assert "process_cpu_seconds_total" in r.text


# -- the RPC proxy and the daemon's components ----------------------------


class RecordingClient:
    def __init__(self):
        self.prepared, self.called = [], []

    def prepare(self, **kw):
        self.prepared.append(kw)
        return self

    def can_send_version(self, version):
        return True

    def call(self, ctxt, method, **kw):
        self.called.append((method, kw))
        return {"instance_id": kw["instance_id"], "samples": []}


def test_the_proxy_asks_the_guests_host_at_version_1_2():
    from arame.agents.hva.rpcapi import HypervisorAPI

    api = object.__new__(HypervisorAPI)
    api.client = RecordingClient()
    api.get_metrics({}, "hv1", IID, since=1000.0, timeout=10)
    [prep] = api.client.prepared
    assert (prep["server"], prep["version"]) == ("hv1", "1.2")
    assert api.client.called == [
        ("get_metrics", {"instance_id": IID, "since": 1000.0})
    ]


def components(monkeypatch):
    from arame.agents.hva import service

    monkeypatch.setattr(service.rpc, "get_notifier", lambda name: None)
    monkeypatch.setattr(service.rpc, "get_server", lambda *a, **kw: None)
    monkeypatch.setattr(service, "CollectorAPI", lambda: None)
    built, managers = service.build_components()
    return {getattr(c, "name", "") for c in built}, managers


def test_the_daemon_samples_and_serves_as_configured(config, monkeypatch):
    config("driver", "fake", group="hva")
    config("metrics_interval", 2, group="hva")
    config("prometheus_port", 0, group="hva")
    names, managers = components(monkeypatch)
    assert "metrics" in names and "prometheus" not in names
    assert managers[0].metrics.interval == 2
    config("prometheus_port", 9177, group="hva")
    assert "prometheus" in components(monkeypatch)[0]
    config("metrics_interval", 0, group="hva")
    names, managers = components(monkeypatch)
    assert "metrics" not in names and managers[0].metrics is None
