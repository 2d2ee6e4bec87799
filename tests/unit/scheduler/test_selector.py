"""Filter, weigh, choose — and explain "no valid host"."""

import datetime as dt

import pytest

from arame.common.db.models import utcnow
from arame.scheduler.host_state import HostState, RequestSpec, load_hosts
from arame.scheduler.selector import HostSelector, Selection


def host(name, **kw) -> HostState:
    values = dict(
        name=name,
        provider="vm",
        hypervisor_type="fake",
        enabled=True,
        last_report_at=utcnow(),
        vcpus=8,
        memory_mb=16384,
        disk_gb=500,
        vcpus_used=0,
        memory_mb_used=0,
        disk_gb_used=0,
        instance_count=0,
    )
    values.update(kw)
    return HostState(**values)


SPEC = RequestSpec("i-aaaaaaaa", "a-aaaaaaaa", "vm", 2, 2048, 20)


@pytest.fixture
def sched(config):
    """Deterministic order (no random pick among the best), default ratios."""
    config("host_subset_size", 1, group="scheduler")
    config("service_down_time", 30)
    for r in ("cpu", "ram", "disk"):
        config(f"{r}_allocation_ratio", 1.0, group="scheduler")
    return config


def names(hosts):
    return [h.name for h in hosts]


def test_configured_plugins_are_loaded_by_name(sched):
    sel = HostSelector()
    assert [type(f).__name__ for f in sel.filters] == [
        "ServiceAliveFilter",
        "ProviderFilter",
        "CoreFilter",
        "RamFilter",
        "DiskFilter",
    ]
    assert [type(w).__name__ for w in sel.weighers] == ["RAMWeigher"]


def test_unknown_plugin_name_is_refused(sched):
    sched("enabled_filters", ["RamFilter", "NoSuchFilter"], group="scheduler")
    with pytest.raises(RuntimeError, match="NoSuchFilter"):
        HostSelector()


def test_rejected_hosts_carry_filter_and_reason(sched):
    hosts = [
        host("ok"),
        host("down", last_report_at=utcnow() - dt.timedelta(seconds=600)),
        host("off", enabled=False),
        host("full", memory_mb=4096, memory_mb_used=3072),
        host("bm", provider="bm"),
    ]
    sel = HostSelector().select(hosts, SPEC)
    assert names(sel.candidates) == ["ok"]
    assert sel.rejected["down"].startswith("ServiceAliveFilter: down")
    assert sel.rejected["off"] == "ServiceAliveFilter: disabled"
    assert sel.rejected["full"] == (
        "RamFilter: memory: 1024 MiB free, 2048 MiB needed"
    )
    assert sel.rejected["bm"] == "ProviderFilter: provider bm, not vm"


def test_first_failing_filter_gives_the_reason(sched):
    # Down *and* full: the liveness filter runs first and speaks.
    h = host("both", enabled=False, memory_mb=1024)
    sel = HostSelector().select([h], SPEC)
    assert sel.rejected == {"both": "ServiceAliveFilter: disabled"}


def test_explain_names_each_filter_and_its_hosts(sched):
    hosts = [host(f"full{i}", memory_mb=1024) for i in range(3)]
    hosts.append(host("off", enabled=False))
    sel = HostSelector().select(hosts, SPEC)
    assert sel.candidates == []
    text = sel.explain()
    assert text == (
        "3 host(s) rejected by RamFilter (full0, full1, full2); "
        "1 host(s) rejected by ServiceAliveFilter (off)"
    )


def test_explain_shortens_long_host_lists(sched):
    hosts = [host(f"h{i:02d}", vcpus=1) for i in range(8)]
    text = HostSelector().select(hosts, SPEC).explain(limit=5)
    assert text == (
        "8 host(s) rejected by CoreFilter (h00, h01, h02, h03, h04 and 3 more)"
    )


def test_explain_with_no_hosts_at_all():
    assert Selection([], {}).explain() == "no hosts are registered"


def test_ram_weigher_spreads_to_the_most_free_memory_first(sched):
    hosts = [
        host("a", memory_mb_used=8192),
        host("b", memory_mb_used=0),
        host("c", memory_mb_used=12288),
        host("d", memory_mb_used=4096),
    ]
    sel = HostSelector().select(hosts, SPEC)
    assert names(sel.candidates) == ["b", "d", "a", "c"]


def test_negative_ram_multiplier_stacks_on_the_fullest_host(sched):
    sched("ram_weight_multiplier", -1.0, group="scheduler")
    hosts = [
        host("a", memory_mb_used=8192),
        host("b", memory_mb_used=0),
        host("c", memory_mb_used=12288),
        host("d", memory_mb_used=4096),
    ]
    sel = HostSelector().select(hosts, SPEC)
    assert names(sel.candidates) == ["c", "a", "d", "b"]


def test_ram_weigher_counts_the_allocation_ratio(sched):
    sched("ram_allocation_ratio", 2.0, group="scheduler")
    # Free = total * 2 - used: big has 2*32768-40000 = 25536, small 16384*2.
    hosts = [
        host("big", memory_mb=32768, memory_mb_used=40000),
        host("small", memory_mb=16384),
    ]
    assert names(HostSelector().select(hosts, SPEC).candidates) == [
        "small",
        "big",
    ]


def test_weighers_combine_with_their_multipliers(sched):
    sched(
        "enabled_weighers",
        ["RAMWeigher", "InstanceCountWeigher"],
        group="scheduler",
    )
    sched("ram_weight_multiplier", 0.5, group="scheduler")
    # RAM prefers x a little; instance count prefers y fully.
    hosts = [
        host("x", memory_mb_used=0, instance_count=10),
        host("y", memory_mb_used=1024, instance_count=0),
    ]
    assert names(HostSelector().select(hosts, SPEC).candidates) == ["y", "x"]


def test_subset_size_only_shuffles_the_best_hosts(sched):
    sched("host_subset_size", 2, group="scheduler")
    hosts = [host(f"h{i}", memory_mb_used=i * 1024) for i in range(5)]
    seen_first = set()
    for _ in range(60):
        order = names(HostSelector().select(hosts, SPEC).candidates)
        assert set(order[:2]) == {"h0", "h1"}
        assert order[2:] == ["h2", "h3", "h4"]
        seen_first.add(order[0])
    assert seen_first == {"h0", "h1"}


def test_load_hosts_reads_every_host_row(add_host, sched):
    from arame.common.db import engine

    add_host("hv1", memory_mb_used=1024)
    add_host("hv2", enabled=False)
    with engine.session() as s:
        hosts = {h.name: h for h in load_hosts(s)}
    assert set(hosts) == {"hv1", "hv2"}
    assert hosts["hv1"].memory_mb_used == 1024
    assert hosts["hv2"].enabled is False
