"""The recovery bench's deployment: the chaos suite's (tests/chaos/
deployment.py), started as its conftest starts it, and the faults the
suite injects, one by name."""

import os
import time

from arame.common import waiting
from tests.chaos import faults
from tests.chaos.deployment import (
    DAEMONS,
    SCHEDULERS,
    ChaosDeployment,
    chaos_conf,
)

from . import recovery_infra
from .broker import rpc_queues_with_consumers
from .ports import free_port

# In the order they are run; the daemons as the chaos suite kills them.
FAULTS = (*SCHEDULERS, "collector", "api", "hva", "sta", "nsa")
FAULTS += ("broker", "database")


def build(name, state_dir, rabbit, mariadb, spawn_delay, extra: dict):
    conf = chaos_conf(name, state_dir)
    conf["DEFAULT"]["host"] = f"recovery-{name.rsplit('_', 1)[-1]}"
    conf["fake_hva"]["spawn_delay"] = spawn_delay
    for section, values in extra.items():
        conf.setdefault(section, {}).update(values)
    return ChaosDeployment(
        name,
        state_dir,
        api_port=free_port(),
        conf=conf,
        rabbit=rabbit,
        mariadb=mariadb,
    )


def start(dep: ChaosDeployment, timeout: float) -> dict:
    """Every daemon of the suite up, and the hypervisor's RPC queue
    consumed (its host reports before its RPC server starts)."""
    t0 = time.monotonic()
    dep.prepare()
    for role, daemon in DAEMONS:
        overlay = (
            {"DEFAULT": {"host": daemon}} if role == "scheduler" else None
        )
        dep.start(role, daemon, overlay)
    dep.wait_ready(timeout, hypervisors=1)
    queue = f"hva.{dep.host_of('hva')}"
    waiting.wait_for(
        lambda: rpc_queues_with_consumers(dep.rabbit, dep.vhost, [queue]),
        max(1.0, timeout - (time.monotonic() - t0)),
        f"{queue} to have a consumer",
        interval=0.5,
    )
    return {"startup_s": round(time.monotonic() - t0, 1)}


def inject(dep: ChaosDeployment, name: str, log: faults.Faults):
    """Fault `name` as the chaos suite injects it: a daemon killed while
    work is in flight (a scheduler while one of its own tasks spawns, hva
    while any spawns), the broker while a spawn runs, the database while
    any task runs. -> the Fault (killed_at, back_at)."""
    if name == "broker":
        faults.wait_work_in_flight(dep, step="spawn")
        return recovery_infra.kill_broker(dep.rabbit, log)
    if name == "database":
        faults.wait_work_in_flight(dep)
        return recovery_infra.kill_database(dep.mariadb, log)
    step = "spawn" if name in (*SCHEDULERS, "hva") else None
    busy = faults.wait_work_in_flight(
        dep, step, owner=name if name in SCHEDULERS else None
    )
    note = f"{busy} task(s) running" + (f" at {step}" if step else "")
    return faults.kill_and_restart(dep, name, log, note)


def run_pids(dep: ChaosDeployment) -> dict[int, str]:
    """The run's own processes now: daemons, the bench's broker and
    database if it has them, and this process."""
    out = {d.pid: n for n, d in dep.daemons.items()}
    beam = getattr(dep.rabbit, "beam_pid", lambda: None)()
    if beam:
        out[beam] = "beam.smp"
    db = getattr(dep.mariadb, "server_pid", lambda: None)()
    if db:
        out[db] = "mariadbd"
    out[os.getpid()] = "bench"
    return out
