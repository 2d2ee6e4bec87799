from arame.scheduler.weighers import BaseWeigher


class InstanceCountWeigher(BaseWeigher):
    """Fewer instances first (spreads small flavors that RAM alone would not)."""

    spec_independent = True

    def weigh(self, host, spec):
        return -host.instance_count
