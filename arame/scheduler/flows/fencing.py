"""Fencing a down hypervisor host before its instances move: afterwards
the host cannot write to the disks its guests had, even if it was only
cut off and comes back.

- Storage: every live storage node revokes the host's iSCSI initiator
  address from every export's ACL and closes its sessions (sta
  `fence_initiator`, rpc 1.2; idempotent). A storage node that is down
  and exports to the host's instances cannot: the fence fails (the API
  refuses such a host already: common/evacuation.fence_blockers).
- Power: where a BMC is configured, `power_fence(ctxt, host, timeout)`
  cuts the host's power (the agents' side, wired by the scheduler's
  manager); it answers None when the host has no BMC (skipped).

Done once per outage: `host_evacuations.fenced_at`, valid while the host
has not reported since. Every evacuate task of the host runs this step;
the first does the work, the others find it done (concurrent ones both
do it: every call is idempotent).
"""

import json
from collections.abc import Callable

import sqlalchemy as sa

from arame.common import evacuation
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.scheduler.flows import liveness
from arame.scheduler.flows.base import StepFailed

STEP = "fence"

PowerFence = Callable[..., dict | None]


def no_power_fence(ctxt, host: str, timeout: float) -> dict | None:
    """No BMC interface wired: nothing to power off."""
    return None


def _fence_storage(flow, sta, host: models.Host, blockers) -> dict:
    with db_engine.session() as s:
        nodes = s.scalars(sa.select(models.StorageNode.name)).all()
    fence = getattr(sta, "fence_initiator", None)
    done: dict = {}
    for node in sorted(nodes):
        down = liveness.storage_node_down(node)
        if down():
            if node in blockers:
                raise StepFailed(
                    STEP,
                    f"storage node {node} exports to {host.name} and is "
                    "down: it cannot revoke the host's initiator",
                )
            done[node] = "down, exports nothing to the host"
            continue
        if fence is None:
            raise StepFailed(
                STEP,
                "this scheduler's storage client has no fence_initiator "
                "(sta rpc 1.2)",
            )
        result = flow.ask(
            STEP,
            node,
            fence,
            host.storage_address,
            want=CONF.ha.fence_timeout,
            down=down,
        )
        done[node] = {
            "revoked": len(result.get("revoked") or []),
            "sessions_closed": result.get("sessions_closed", 0),
        }
    return done


def fence(flow, host_name: str, sta, power_fence: PowerFence) -> None:
    """The fence step of an evacuate flow (raises StepFailed)."""
    with flow.step(STEP, host=host_name):
        with db_engine.session() as s:
            flow.flush(s)
            host = s.scalar(
                sa.select(models.Host).where(models.Host.name == host_name)
            )
            if host is None:
                raise StepFailed(STEP, f"host {host_name} is not registered")
            ev = s.get(models.HostEvacuation, host_name)
            if evacuation.fenced(ev, host):
                flow.note(
                    "fence-done",
                    f"{host_name} fenced at {ev.fenced_at.isoformat()}Z",
                )
                return
            blockers = evacuation.fence_blockers(s, host)
            s.expunge(host)
        detail: dict = {}
        if host.storage_address:
            detail["storage"] = _fence_storage(flow, sta, host, blockers)
        else:
            detail["storage"] = "host has no iSCSI initiator address"
        flow.checkpoint()
        power = power_fence(
            flow.ctxt, host_name, timeout=flow.call_timeout(STEP)
        )
        detail["power"] = "no BMC configured" if power is None else power
        now = models.utcnow()
        with db_engine.session() as s:
            flow.flush(s)
            s.execute(
                sa.update(models.HostEvacuation)
                .where(models.HostEvacuation.host == host_name)
                .values(
                    fenced_at=now,
                    fence_detail=json.dumps(detail, default=str)[:1024],
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
