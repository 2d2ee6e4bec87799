"""The scheduler's host cache: changed rows only between full reads, the
claim in the database still the truth."""

import datetime as dt

import pytest
import sqlalchemy as sa

from arame.common.db import engine, models
from arame.scheduler import claims
from arame.scheduler.host_cache import HostCache
from arame.scheduler.host_state import RequestSpec
from arame.scheduler.selector import HostSelector


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def cache_conf(config):
    # No overlap: a row is read again only because its stamp moved.
    config("host_cache_overlap", 0.0, group="scheduler")
    config("host_cache_full_reload", 60, group="scheduler")
    config("host_subset_size", 1, group="scheduler")
    config("service_down_time", 30)
    return config


def refresh(cache) -> int:
    with engine.session() as s:
        return cache.refresh(s)


def test_incremental_refresh_sees_a_claim_made_elsewhere(
    add_host, add_instance, cache_conf
):
    for name in ("hv1", "hv2", "hv3"):
        add_host(name)
    cache = HostCache(clock=Clock())
    assert refresh(cache) == 3  # the first refresh reads every row
    # The newest row's stamp (the watermark) is read again, not the row:
    # its stamp has not moved.
    assert refresh(cache) == 0
    iid, _ = add_instance()
    # Another scheduler's claim: this cache is not told of it.
    claims.claim(iid, "hv1", 2, 2048, 20)
    read = refresh(cache)
    assert read < 3
    assert cache.states["hv1"].vcpus_used == 2
    assert cache.states["hv1"].memory_mb_used == 2048
    assert cache.states["hv1"].instance_count == 1


def test_rows_in_the_overlap_are_read_whole_only_when_their_stamp_moved(
    add_host, add_instance, cache_conf
):
    """Several schedulers claiming fast fill the overlap window with rows;
    a refresh decodes whole only those changed since it last read them."""
    cache_conf("host_cache_overlap", 3600.0, group="scheduler")
    cache_conf("host_cache_full_reload", 86400, group="scheduler")
    for name in ("hv1", "hv2", "hv3", "hv4"):
        add_host(name)
    clock = Clock()
    cache = HostCache(clock=clock)
    assert refresh(cache) == 4
    clock.now += 3600  # each refresh below looks back over the overlap
    assert refresh(cache) == 0  # all four in the window, none moved
    iid, _ = add_instance()
    claims.claim(iid, "hv3", 2, 2048, 20)
    clock.now += 3600
    before = cache.rows_read
    assert refresh(cache) == 1
    assert cache.rows_read - before == 1
    assert cache.states["hv3"].vcpus_used == 2
    clock.now += 3600
    assert refresh(cache) == 0


def test_a_row_committed_late_is_seen_within_the_overlap(
    add_host, add_instance, cache_conf
):
    """A change stamped before the newest one the cache saw (committed
    late, or by a clock a little behind) is not behind the watermark for
    good: the next look back over the overlap, at most an overlap later,
    reads it."""
    cache_conf("host_cache_overlap", 1.0, group="scheduler")
    add_host("hv1")
    add_host("hv2")
    clock = Clock()
    cache = HostCache(clock=clock)
    refresh(cache)
    iid, _ = add_instance()
    claims.claim(iid, "hv1", 2, 2048, 20)
    clock.now += 0.1
    refresh(cache)
    assert cache.states["hv1"].vcpus_used == 2  # past the watermark
    H = models.Host
    with engine.session() as s:
        newest = s.scalar(sa.select(H.updated_at).where(H.name == "hv1"))
        s.execute(
            sa.update(H)
            .where(H.name == "hv2")
            .values(
                vcpus_used=3, updated_at=newest - dt.timedelta(seconds=0.5)
            )
        )
    clock.now += 0.1
    refresh(cache)
    assert cache.states["hv2"].vcpus_used == 0  # behind the watermark
    clock.now += 1.0
    assert refresh(cache) == 1
    assert cache.states["hv2"].vcpus_used == 3


def test_a_deleted_host_disappears_at_the_full_reload(add_host, cache_conf):
    add_host("hv1")
    add_host("hv2")
    clock = Clock()
    cache = HostCache(clock=clock)
    refresh(cache)
    with engine.session() as s:
        s.execute(sa.delete(models.Host).where(models.Host.name == "hv2"))
    refresh(cache)
    assert set(cache.states) == {"hv1", "hv2"}  # a delete leaves no stamp
    clock.now += 60
    assert refresh(cache) == 1
    assert set(cache.states) == {"hv1"}


def test_a_lost_claim_reads_its_host_again(add_host, add_instance, sched_ok):
    add_host("hv1", memory_mb=4096)
    add_host("hv2", memory_mb=2048)
    sel = HostSelector()
    cache = sel.cache
    refresh(cache)
    # Filled behind the cache's back with a stamp it will not read again
    # (as a writer whose clock is behind would): only a full read or a
    # lost claim corrects it.
    with engine.session() as s:
        s.execute(
            sa.update(models.Host.__table__)
            .where(models.Host.name == "hv1")
            .values(memory_mb_used=4096, updated_at=models.utcnow().min)
        )
    refresh(cache)
    assert cache.states["hv1"].memory_mb_used == 0  # stale
    spec = RequestSpec("i", "a-admin", "vm", 1, 1024, 10)
    with cache.lock:
        first = sel.select_from(cache, spec).candidates[0].name
    assert first == "hv1"
    iid, _ = add_instance(vcpus=1, memory_mb=1024, disk_gb=10)
    with pytest.raises(claims.ClaimLost):
        claims.claim(iid, "hv1", 1, 1024, 10)
    with engine.session() as s:
        cache.refresh_host(s, "hv1")
    assert cache.states["hv1"].memory_mb_used == 4096
    with cache.lock:
        chosen = sel.select_from(cache, spec).candidates
    assert [h.name for h in chosen] == ["hv2"]


def test_the_ranking_follows_changes_and_the_multiplier(add_host, sched_ok):
    add_host("small", memory_mb=4096)
    add_host("big", memory_mb=8192)
    sel = HostSelector()
    spec = RequestSpec("i", "a-admin", "vm", 1, 1024, 10)

    def order():
        with engine.session() as s, sel.cache.lock:
            sel.cache.refresh(s)
            return [
                h.name for h in sel.select_from(sel.cache, spec).candidates
            ]

    assert order() == ["big", "small"]
    with engine.session() as s:
        s.execute(
            sa.update(models.Host)
            .where(models.Host.name == "big")
            .values(memory_mb_used=6144)
            .execution_options(synchronize_session=False)
        )
    assert order() == ["small", "big"]
    sched_ok("ram_weight_multiplier", -1.0, group="scheduler")
    assert order() == ["big", "small"]


def test_no_valid_host_is_explained_from_every_host(add_host, sched_ok):
    add_host("full1", memory_mb=1024)
    add_host("full2", memory_mb=1024)
    add_host("off", enabled=False)
    sel = HostSelector()
    refresh(sel.cache)
    spec = RequestSpec("i", "a-admin", "vm", 1, 2048, 10)
    with sel.cache.lock:
        selection = sel.select_from(sel.cache, spec)
    assert selection.candidates == []
    assert selection.explain() == (
        "2 host(s) rejected by RamFilter (full1, full2); "
        "1 host(s) rejected by ServiceAliveFilter (off)"
    )


@pytest.fixture
def sched_ok(cache_conf):
    for r in ("cpu", "ram", "disk"):
        cache_conf(f"{r}_allocation_ratio", 1.0, group="scheduler")
    return cache_conf


def test_the_ranked_choice_is_that_of_weighing_every_host(add_host, sched_ok):
    # Hosts of distinct free memory, some rejected by each filter: the
    # best hosts the cache's path returns are those of weighing them all.
    import random

    rnd = random.Random(7)
    free = rnd.sample(range(1, 200), 60)
    for i, f in enumerate(free):
        add_host(
            f"h{i:02d}",
            memory_mb=200 * 1024,
            memory_mb_used=(200 - f) * 1024,
            enabled=i % 7 != 0,
            provider="bm" if i % 11 == 0 else "vm",
            vcpus_used=8 if i % 5 == 0 else 0,
        )
    sel = HostSelector()
    spec = RequestSpec("i", "a-admin", "vm", 1, 1024, 10)
    with engine.session() as s, sel.cache.lock:
        sel.cache.refresh(s)
        fast = sel.select_from(sel.cache, spec).candidates
        full = sel.select(list(sel.cache.states.values()), spec).candidates
    assert len(fast) == 1 + 5  # host_subset_size + claim_attempts
    assert [h.name for h in fast] == [h.name for h in full[: len(fast)]]


def _stamps(name):
    with engine.session() as s:
        return s.execute(
            sa.select(
                models.Host.updated_at, models.Host.last_report_at
            ).where(models.Host.name == name)
        ).one()


def _report(name, **inventory):
    """A heartbeat of hypervisor `name` as the collector records it."""
    from arame.collector.observations import record_inventory

    host = {
        "name": name,
        "hypervisor_type": "fake",
        "vcpus": 8,
        "memory_mb": 16384,
        "disk_gb": 500,
        "storage_address": None,
        **inventory,
    }
    with engine.session() as s:
        record_inventory(s, [host], "vm", models.utcnow())


def test_a_heartbeat_moves_the_change_marker_only_when_inventory_changed(
    add_host, cache_conf
):
    add_host("hv1", age_s=5)
    marker, last = _stamps("hv1")
    _report("hv1")
    marker2, last2 = _stamps("hv1")
    assert marker2 == marker  # liveness alone: no re-read by schedulers
    assert last2 > last
    _report("hv1", memory_mb=32768)
    marker3, _ = _stamps("hv1")
    assert marker3 > marker


def test_the_cache_sees_a_host_die_and_return_without_its_marker(
    add_host, cache_conf
):
    from arame.scheduler.filters.host import ServiceAliveFilter

    cache_conf("host_liveness_interval", 1.0, group="scheduler")
    add_host("hv2")
    add_host("hv1")  # the newest stamp, which every refresh reads again
    clock = Clock()
    cache = HostCache(clock=clock)
    refresh(cache)
    alive = ServiceAliveFilter()
    spec = RequestSpec("i", "a-admin", "vm", 1, 1024, 10)

    def down(name):
        return alive.reason_to_reject(cache.states[name], spec)

    assert down("hv2") is None
    # hv2 stops reporting: its last report ages past service_down_time
    # (30 s here); no writer stamps its row.
    H = models.Host.__table__
    with engine.session() as s:
        s.execute(
            sa.update(H)
            .where(H.c.name == "hv2")
            .values(
                last_report_at=models.utcnow() - dt.timedelta(seconds=40),
                updated_at=H.c.updated_at,
            )
        )
    refresh(cache)
    assert down("hv2") is None  # within the interval: not read yet
    clock.now += 1
    refresh(cache)
    assert down("hv2").startswith("down: last report 40 s ago")
    assert down("hv1") is None
    # It comes back: its heartbeat changes nothing but liveness.
    marker, _ = _stamps("hv2")
    _report("hv2")
    assert _stamps("hv2")[0] == marker
    clock.now += 1
    refresh(cache)
    assert down("hv2") is None
