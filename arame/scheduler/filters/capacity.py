"""Capacity filters: what is left after every claim, times the allocation
ratio (the claim's conditional UPDATE applies the same arithmetic)."""

from arame.common.conf import CONF
from arame.scheduler.filters import BaseFilter


def limit(total: int, ratio: float) -> int:
    return int(total * ratio)


class CoreFilter(BaseFilter):
    def reason_to_reject(self, host, spec):
        cap = limit(host.vcpus, CONF.scheduler.cpu_allocation_ratio)
        if host.vcpus_used + spec.vcpus > cap:
            return f"vcpus: {cap - host.vcpus_used} free, {spec.vcpus} needed"
        return None


class RamFilter(BaseFilter):
    def reason_to_reject(self, host, spec):
        cap = limit(host.memory_mb, CONF.scheduler.ram_allocation_ratio)
        if host.memory_mb_used + spec.memory_mb > cap:
            return (
                f"memory: {cap - host.memory_mb_used} MiB free, "
                f"{spec.memory_mb} MiB needed"
            )
        return None


class DiskFilter(BaseFilter):
    def reason_to_reject(self, host, spec):
        cap = limit(host.disk_gb, CONF.scheduler.disk_allocation_ratio)
        if host.disk_gb_used + spec.disk_gb > cap:
            return (
                f"disk: {cap - host.disk_gb_used} GiB free, "
                f"{spec.disk_gb} GiB needed"
            )
        return None
