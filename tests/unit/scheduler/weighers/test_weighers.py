from arame.common.db.models import utcnow
from arame.scheduler.host_state import HostState, RequestSpec
from arame.scheduler.weighers.instances import InstanceCountWeigher
from arame.scheduler.weighers.ram import RAMWeigher

SPEC = RequestSpec("i-aaaaaaaa", "a-aaaaaaaa", "vm", 1, 512, 5)


def host(**kw) -> HostState:
    values = dict(
        name="hv",
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


def test_ram_weigher_weighs_free_memory_after_claims(config):
    config("ram_allocation_ratio", 1.0, group="scheduler")
    assert RAMWeigher().weigh(host(memory_mb_used=6384), SPEC) == 10000


def test_ram_weigher_multiplier_comes_from_config(config):
    config("ram_weight_multiplier", -2.5, group="scheduler")
    assert RAMWeigher().multiplier() == -2.5


def test_instance_count_weigher_prefers_emptier_hosts():
    w = InstanceCountWeigher()
    assert w.weigh(host(instance_count=1), SPEC) > w.weigh(
        host(instance_count=5), SPEC
    )
    assert w.multiplier() == 1.0
