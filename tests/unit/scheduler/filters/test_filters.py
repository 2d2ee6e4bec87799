"""Each filter lets a fitting host through and names why it rejects one."""

import datetime as dt

import pytest

from arame.common.db.models import utcnow
from arame.scheduler.filters.capacity import CoreFilter, DiskFilter, RamFilter
from arame.scheduler.filters.host import ProviderFilter, ServiceAliveFilter
from arame.scheduler.host_state import HostState, RequestSpec


def host(**kw) -> HostState:
    values = dict(
        name="hv1",
        provider="vm",
        hypervisor_type="fake",
        enabled=True,
        last_report_at=utcnow(),
        vcpus=4,
        memory_mb=4096,
        disk_gb=100,
        vcpus_used=0,
        memory_mb_used=0,
        disk_gb_used=0,
        instance_count=0,
    )
    values.update(kw)
    return HostState(**values)


def spec(**kw) -> RequestSpec:
    values = dict(
        instance_id="i-aaaaaaaa",
        account_id="a-aaaaaaaa",
        provider="vm",
        vcpus=1,
        memory_mb=512,
        disk_gb=5,
    )
    values.update(kw)
    return RequestSpec(**values)


@pytest.fixture
def ratios(config):
    def set_ratios(cpu=1.0, ram=1.0, disk=1.0):
        config("cpu_allocation_ratio", cpu, group="scheduler")
        config("ram_allocation_ratio", ram, group="scheduler")
        config("disk_allocation_ratio", disk, group="scheduler")

    set_ratios()
    return set_ratios


class TestServiceAliveFilter:
    def test_recent_host_passes(self, config):
        config("service_down_time", 30)
        assert ServiceAliveFilter().reason_to_reject(host(), spec()) is None

    def test_disabled_host_is_rejected(self, config):
        reason = ServiceAliveFilter().reason_to_reject(
            host(enabled=False), spec()
        )
        assert reason == "disabled"

    def test_host_that_never_reported_is_rejected(self, config):
        reason = ServiceAliveFilter().reason_to_reject(
            host(last_report_at=None), spec()
        )
        assert reason == "never reported"

    def test_host_silent_longer_than_service_down_time_is_down(self, config):
        config("service_down_time", 30)
        old = utcnow() - dt.timedelta(seconds=120)
        reason = ServiceAliveFilter().reason_to_reject(
            host(last_report_at=old), spec()
        )
        assert reason.startswith("down: last report")
        assert "12" in reason  # about 120 s ago

    def test_host_within_service_down_time_is_up(self, config):
        config("service_down_time", 300)
        old = utcnow() - dt.timedelta(seconds=120)
        assert (
            ServiceAliveFilter().reason_to_reject(
                host(last_report_at=old), spec()
            )
            is None
        )


class TestProviderFilter:
    def test_same_provider_passes(self):
        assert ProviderFilter().reason_to_reject(host(), spec()) is None

    def test_bare_metal_request_is_not_sent_to_a_hypervisor(self):
        reason = ProviderFilter().reason_to_reject(
            host(provider="vm"), spec(provider="bm")
        )
        assert reason == "provider vm, not bm"


class TestCapacityFilters:
    def test_request_that_fits_exactly_passes(self, ratios):
        h = host(
            vcpus=4,
            vcpus_used=3,
            memory_mb=4096,
            memory_mb_used=3584,
            disk_gb=100,
            disk_gb_used=95,
        )
        s = spec(vcpus=1, memory_mb=512, disk_gb=5)
        for f in (CoreFilter(), RamFilter(), DiskFilter()):
            assert f.reason_to_reject(h, s) is None

    def test_not_enough_vcpus(self, ratios):
        reason = CoreFilter().reason_to_reject(
            host(vcpus=4, vcpus_used=3), spec(vcpus=2)
        )
        assert reason == "vcpus: 1 free, 2 needed"

    def test_not_enough_ram(self, ratios):
        reason = RamFilter().reason_to_reject(
            host(memory_mb=4096, memory_mb_used=4000), spec(memory_mb=512)
        )
        assert reason == "memory: 96 MiB free, 512 MiB needed"

    def test_not_enough_disk(self, ratios):
        reason = DiskFilter().reason_to_reject(
            host(disk_gb=100, disk_gb_used=99), spec(disk_gb=5)
        )
        assert reason == "disk: 1 GiB free, 5 GiB needed"

    def test_cpu_allocation_ratio_oversells_vcpus(self, ratios):
        h, s = host(vcpus=4, vcpus_used=4), spec(vcpus=4)
        assert CoreFilter().reason_to_reject(h, s) is not None
        ratios(cpu=2.0)
        assert CoreFilter().reason_to_reject(h, s) is None
        assert (
            CoreFilter().reason_to_reject(host(vcpus=4, vcpus_used=5), s)
            == "vcpus: 3 free, 4 needed"
        )

    def test_ram_allocation_ratio_oversells_memory(self, ratios):
        h, s = host(memory_mb=1024, memory_mb_used=1024), spec(memory_mb=512)
        assert RamFilter().reason_to_reject(h, s) is not None
        ratios(ram=1.5)
        assert RamFilter().reason_to_reject(h, s) is None

    def test_ram_allocation_ratio_below_one_reserves_memory(self, ratios):
        ratios(ram=0.5)
        reason = RamFilter().reason_to_reject(
            host(memory_mb=1024), spec(memory_mb=1024)
        )
        assert reason == "memory: 512 MiB free, 1024 MiB needed"

    def test_disk_allocation_ratio(self, ratios):
        h, s = host(disk_gb=10, disk_gb_used=10), spec(disk_gb=10)
        assert DiskFilter().reason_to_reject(h, s) is not None
        ratios(disk=2.0)
        assert DiskFilter().reason_to_reject(h, s) is None


def test_every_registered_filter_loads_by_name_and_says_why_it_rejects():
    from stevedore import extension

    from arame.scheduler.filters import BaseFilter

    mgr = extension.ExtensionManager(
        "arame.scheduler.filters",
        invoke_on_load=True,
        on_load_failure_callback=_raise,
    )
    assert sorted(mgr.names()) == [
        "CoreFilter",
        "DiskFilter",
        "ProviderFilter",
        "RamFilter",
        "ServiceAliveFilter",
    ]
    for ext in mgr:
        assert isinstance(ext.obj, BaseFilter)
        assert (
            ext.obj.reason_to_reject(
                host(enabled=False, vcpus=0, memory_mb=0, disk_gb=0),
                spec(provider="bm"),
            )
            is not None
        )


def _raise(_manager, entrypoint, exc):
    raise AssertionError(f"{entrypoint} does not load: {exc}") from exc
