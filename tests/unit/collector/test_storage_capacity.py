"""Storage nodes' capacity: sta's heartbeat carries its pool's size, free,
allocated and provisioned bytes; the collector keeps the latest in
storage_nodes and the host list shows it."""

import oslo_messaging as messaging

from arame.agents.sta.backends.fake import FakeBackend
from arame.agents.sta.manager import STAManager
from arame.agents.sta.targets.fake import FakeTarget
from arame.api.services import hosts as host_service
from arame.collector.manager import NotificationEndpoint
from arame.common.db import engine, models

GiB = 1024**3


def sta_heartbeat(host="st1", **storage):
    cap = {
        "pool": "tank",
        "size_bytes": 100 * GiB,
        "free_bytes": 60 * GiB,
        "allocated_bytes": 40 * GiB,
        "provisioned_bytes": 250 * GiB,
        "volume_mode": "file",
        **storage,
    }
    return {
        "host": host,
        "binary": "arame-sta",
        "topic": "sta",
        "version": "0.1.0",
        "storage": cap,
    }


def deliver(payload):
    result = NotificationEndpoint().info(
        {}, "arame-sta.st1", "service.heartbeat", payload, {}
    )
    assert result == messaging.NotificationResult.HANDLED


def node(name="st1"):
    with engine.session() as s:
        return s.get(models.StorageNode, name)


def test_the_heartbeat_is_written_and_then_updated(db):
    deliver(sta_heartbeat())
    n = node()
    assert (
        n.pool,
        n.volume_mode,
        n.size_bytes,
        n.free_bytes,
        n.allocated_bytes,
        n.provisioned_bytes,
    ) == ("tank", "file", 100 * GiB, 60 * GiB, 40 * GiB, 250 * GiB)
    first = n.reported_at
    deliver(sta_heartbeat(free_bytes=10 * GiB))
    n = node()
    assert n.free_bytes == 10 * GiB and n.reported_at >= first
    with engine.session() as s:
        assert s.get(models.Service, 1).binary == "arame-sta"


def test_what_the_real_agent_reports_fits(db):
    mgr = STAManager(
        FakeBackend(size_bytes=7 * GiB),
        FakeTarget(),
        max_volume_gb=5,
        import_dirs=[],
    )
    payload = sta_heartbeat()
    payload["storage"] = mgr.inventory()["storage"]
    deliver(payload)
    assert node().size_bytes == 7 * GiB


def test_an_unreadable_report_changes_nothing(db):
    deliver(sta_heartbeat())
    for bad in (
        {"free_bytes": -1},
        {"free_bytes": "lots"},
        {"size_bytes": None},
        {"allocated_bytes": True},
    ):
        deliver(sta_heartbeat(**bad))
    assert node().free_bytes == 60 * GiB
    # Another daemon's heartbeat never writes a pool.
    p = sta_heartbeat(host="hv1")
    p["binary"] = "arame-hva"
    deliver(p)
    assert node("hv1") is None


def test_the_host_list_shows_each_pool_on_its_machine(db, config):
    config("service_down_time", 60)
    deliver(sta_heartbeat())
    items = {h["name"]: h for h in host_service.list_hosts(None)["items"]}
    st1 = items["st1"]
    assert st1["state"] == "up"
    assert [s["binary"] for s in st1["services"]] == ["arame-sta"]
    st = st1["storage"]
    assert (
        st["pool"],
        st["size_bytes"],
        st["free_bytes"],
        st["allocated_bytes"],
        st["provisioned_bytes"],
    ) == ("tank", 100 * GiB, 60 * GiB, 40 * GiB, 250 * GiB)
    assert 0 <= st["report_age_s"] < 60
