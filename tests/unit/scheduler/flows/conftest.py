"""A hypervisor agent proxy the tests control, a proxy over real agent
managers, and a cloud with one host."""

import oslo_messaging as messaging
import pytest
import sqlalchemy as sa

from arame.common import tasks
from arame.common.context import admin_context
from arame.common.db import engine, models
from arame.scheduler.flows.base import TaskFlow


class RecordingProxy:
    """Stands in for an agent's rpcapi by calling a real manager in process
    (manager_for(where)). Calls are recorded as (method, where);
    `fail[method]` is raised instead; the manager's typed refusals
    (`expected`) arrive as RemoteError, as over the bus."""

    expected: tuple[type[Exception], ...] = ()

    def __init__(self):
        self.calls: list[tuple[str, str]] = []
        self.fail: dict[str, Exception] = {}

    def manager_for(self, where: str):
        raise NotImplementedError

    def __getattr__(self, method):
        def call(ctxt, where, *args, timeout, **kw):
            assert timeout > 0
            self.calls.append((method, where))
            if method in self.fail:
                raise self.fail[method]
            try:
                return getattr(self.manager_for(where), method)(
                    ctxt, *args, **kw
                )
            except self.expected as e:
                raise messaging.RemoteError(type(e).__name__, str(e)) from e

        return call

    def methods(self):
        return [m for m, _ in self.calls]


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
    with engine.session() as s:
        h = s.scalar(sa.select(models.Host).where(models.Host.name == name))
        return (
            h.vcpus_used,
            h.memory_mb_used,
            h.disk_gb_used,
            h.instance_count,
        )


@pytest.fixture
def usage(db):
    return host_usage


def start_task(
    model, rid: str, status: str, resource_type: str, action: str
) -> str:
    """What the API does before a flow on an existing record runs: the
    record moved to `status` and its task created, in one commit."""
    with engine.session() as s:
        s.execute(
            sa.update(model).where(model.id == rid).values(status=status)
        )
        tid = tasks.create(
            s,
            account_id="a-admin",
            resource_id=rid,
            resource_type=resource_type,
            action=action,
            timeout_s=600,
        ).id
    return tid


@pytest.fixture(autouse=True)
def task_ends(monkeypatch):
    """Every flow in these tests ends its task in one call of
    TaskFlow.end_task, once: a second end of the same task fails the test
    that caused it. Yields the ends, (task id, status, step, message)."""
    ends: list[tuple] = []
    end_task = TaskFlow.end_task

    def once(self, s, status, step=None, message=None):
        assert self.task_id not in [e[0] for e in ends], (
            f"task {self.task_id} ended twice: {ends} then {status}"
        )
        ends.append((self.task_id, status, step, message))
        return end_task(self, s, status, step, message)

    monkeypatch.setattr(TaskFlow, "end_task", once)
    return ends
