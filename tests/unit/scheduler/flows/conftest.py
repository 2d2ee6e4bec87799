"""A hypervisor agent proxy the tests control, and a cloud with one host."""

import pytest

from arame.common.context import admin_context


class FakeHVA:
    """Stands in for agents.hva.rpcapi.HypervisorAPI.

    Every call is recorded as (method, host, instance id). `fail[method]`
    is raised by that method; `hooks[method]` runs inside the call (to change
    the database while the agent "works").
    """

    def __init__(self):
        self.calls: list[tuple[str, str, str]] = []
        self.fail: dict[str, Exception] = {}
        self.hooks: dict[str, object] = {}
        self.timeouts: list[float] = []

    def _do(self, method, host, instance_id, timeout, power_state):
        self.calls.append((method, host, instance_id))
        self.timeouts.append(timeout)
        hook = self.hooks.get(method)
        if hook is not None:
            hook(instance_id)
        if method in self.fail:
            raise self.fail[method]
        return {"power_state": power_state}

    def spawn(self, ctxt, host, instance, timeout):
        return self._do("spawn", host, instance["id"], timeout, "running")

    def destroy(self, ctxt, host, instance_id, timeout):
        return self._do("destroy", host, instance_id, timeout, None)

    def power_on(self, ctxt, host, instance_id, timeout):
        return self._do("power_on", host, instance_id, timeout, "running")

    def power_off(self, ctxt, host, instance_id, timeout):
        return self._do("power_off", host, instance_id, timeout, "shutdown")

    def reboot(self, ctxt, host, instance_id, timeout):
        return self._do("reboot", host, instance_id, timeout, "running")

    def methods(self):
        return [c[0] for c in self.calls]


@pytest.fixture
def hva():
    return FakeHVA()


@pytest.fixture
def ctxt():
    return admin_context()


@pytest.fixture
def sched_conf(config):
    config("host_subset_size", 1, group="scheduler")
    config("service_down_time", 60)
    for r in ("cpu", "ram", "disk"):
        config(f"{r}_allocation_ratio", 1.0, group="scheduler")
    return config


def host_usage(name="hv1"):
    import sqlalchemy as sa

    from arame.common.db import engine, models
    with engine.session() as s:
        h = s.scalar(sa.select(models.Host).where(models.Host.name == name))
        return (h.vcpus_used, h.memory_mb_used, h.disk_gb_used,
                h.instance_count)


@pytest.fixture
def usage(db):
    return host_usage
