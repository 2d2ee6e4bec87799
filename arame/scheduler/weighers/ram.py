from arame.common.conf import CONF
from arame.scheduler.weighers import BaseWeigher


class RAMWeigher(BaseWeigher):
    """Free memory: positive multiplier spreads, negative stacks."""

    spec_independent = True

    def weigh(self, host, spec):
        return (
            host.memory_mb * CONF.scheduler.ram_allocation_ratio
            - host.memory_mb_used
        )

    def multiplier(self):
        return CONF.scheduler.ram_weight_multiplier

    def rank_token(self):
        return CONF.scheduler.ram_allocation_ratio
