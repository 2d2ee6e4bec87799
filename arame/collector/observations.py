"""Writers of what agents observe: heartbeats, host inventory, storage
pools' capacity, power states.

The collector is the only writer of observed state; agents send it all as
notifications and hold no database credentials.
"""

import sqlalchemy as sa
from oslo_log import log

from arame.agents.hva import rpcapi as hva_rpcapi
from arame.agents.sta import rpcapi as sta_rpcapi
from arame.collector import ownership
from arame.common import ids, states, tasks
from arame.common.db import models, prepared
from arame.common.db.services import write_service_heartbeat
from arame.notifications import publisher

LOG = log.getLogger(__name__)

_INVENTORY = (
    "hypervisor_type",
    "vcpus",
    "memory_mb",
    "disk_gb",
    "storage_address",
)
_CAPACITY = (
    "size_bytes",
    "free_bytes",
    "allocated_bytes",
    "provisioned_bytes",
)


def _rpc_version(value) -> str | None:
    """An agent's RPC API version ("1.4") as the services table keeps it;
    anything else is dropped (the cap then takes the agent as old)."""
    if isinstance(value, str) and len(value) <= 16:
        major, dot, minor = value.partition(".")
        if dot and major.isdigit() and minor.isdigit():
            return value
    return None


def record_heartbeat(session, payload: dict) -> None:
    now = models.utcnow()
    write_service_heartbeat(
        session,
        {
            **{k: payload[k] for k in ("host", "binary", "topic", "version")},
            # Absent from agents older than upgrade levels (issue 13).
            "rpc_version": _rpc_version(payload.get("rpc_version")),
        },
        at=now,
    )
    hosts = payload.get("hosts") or []
    if hosts:
        record_inventory(session, hosts, payload.get("provider", "vm"), now)
    if payload.get("storage") and payload["binary"] == sta_rpcapi.BINARY:
        record_storage(session, payload["host"], payload["storage"], now)


def record_storage(session, node: str, storage: dict, now) -> bool:
    """Upsert a storage node's pool capacity (what sta's heartbeat
    carries); a report that is not whole numbers is dropped, not half
    written. True if written."""
    values = {k: storage.get(k) for k in _CAPACITY}
    if not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for v in values.values()
    ):
        LOG.warning(
            "storage node %s reported an unreadable capacity: %r",
            node,
            storage,
        )
        return False
    values.update(
        pool=str(storage.get("pool") or "")[:64] or None,
        volume_mode=str(storage.get("volume_mode") or "")[:8] or None,
        reported_at=now,
        updated_at=now,
    )
    SN = models.StorageNode
    if session.execute(
        sa.update(SN)
        .where(SN.name == node)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount:
        return True
    try:
        with session.begin_nested():
            session.add(SN(name=node, created_at=now, **values))
    except sa.exc.IntegrityError:
        # Another collector inserted it first: this report updates it.
        session.execute(
            sa.update(SN)
            .where(SN.name == node)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return True


def record_inventory(session, hosts: list[dict], provider: str, now) -> None:
    H = models.Host
    names = [h["name"] for h in hosts]
    known = set(session.scalars(sa.select(H.name).where(H.name.in_(names))))
    new = [h for h in hosts if h["name"] not in known]
    old = [h for h in hosts if h["name"] in known]
    if old:
        # One Core executemany for every known host (a fake hva process
        # reports hundreds in one heartbeat); through the ORM session a list
        # of parameters would mean a bulk update by primary key instead.
        # updated_at is the schedulers' change marker (host_cache.py): a
        # heartbeat that changes nothing but liveness leaves it, so 10,000
        # hosts reporting do not make every decision re-read a thousand
        # rows. It is assigned first: MySQL evaluates SET left to right,
        # on the values already assigned.
        c = H.__table__.c
        changed = sa.or_(
            *(c[k].is_distinct_from(prepared.bound(k)) for k in _INVENTORY)
        )
        session.connection().execute(
            sa.update(H.__table__)
            .where(c.name == prepared.bound("name"))
            .ordered_values(
                (c.updated_at, sa.case((changed, now), else_=c.updated_at)),
                *((c[k], prepared.bound(k)) for k in _INVENTORY),
                (c.last_report_at, now),
            ),
            [
                prepared.params(
                    name=h["name"], **{k: h.get(k) for k in _INVENTORY}
                )
                for h in old
            ],
        )
    for h in new:
        session.add(
            models.Host(
                id=ids.generate("host"),
                name=h["name"],
                provider=provider,
                last_report_at=now,
                created_at=now,
                updated_at=now,
                **{k: h.get(k) for k in _INVENTORY},
            )
        )


# What an agent saw happen on its own, as the task it leaves in the
# instance's history: (task action, task status, step name).
_OBSERVED_EVENTS = {
    "ha_restart": ("ha_restart", "done", "restart"),
    "ha_failed": ("ha_restart", "failed", "restart"),
    "ha_gave_up": ("ha_restart", "failed", "restart"),
    "crashed": ("crash", "done", "stopped"),
    "guest_shutdown": ("guest_shutdown", "done", "stopped"),
}


# Transitions the host's report settles that no flow makes: an `error`
# whose guest the host reports running or shut off (a flow failed on a
# caller-side deadline while the guest went on) is what the host says.
_SETTLED_BY_HOST = {("error", "running"), ("error", "stopped")}


def _status_from_host(status: str, payload: dict) -> tuple | None:
    """(status, status_reason) the host's report settles for an instance
    no flow owns, or None: the status stays."""
    observed, reason = payload["power_state"], payload.get("reason")
    if status == "running" and observed in ("shutdown", "crashed"):
        return "stopped", reason or "guest stopped"
    if status == "stopped" and observed == "running":
        # Restarted behind our back (HA, or powered on from inside):
        # `running` means the hypervisor runs it.
        return "running", reason
    if (
        status in ("running", "stopped")
        and observed == "nostate"
        and payload.get("event") == "missing"
    ):
        return "error", reason or "guest missing"
    if status == "error" and observed == "running":
        return "running", None
    if status == "error" and observed == "shutdown":
        return "stopped", None
    return None


def _gives_the_cause(inst, payload: dict) -> bool:
    """The host's event for a stop the record shows with only the power
    sync's reason: the same stop, whose event the sync's report overtook
    (notifications arrive in any order). The event knows the cause, so its
    reason replaces the sync's: the record ends the same either way."""
    return (
        inst.status == "stopped"
        and payload["power_state"] in ("shutdown", "crashed")
        and (inst.status_reason or "").startswith(hva_rpcapi.SYNC_REASON)
    )


def record_power_state(session, payload: dict) -> None:
    """A guest's power state as its host reports it: a change it saw on
    its own, or the power sync's comparison with our record. The record
    follows the host in every state but two: a `terminated` instance is
    never brought back, and one a flow owns is the flow's to settle."""
    I = models.Instance
    inst = session.get(I, payload["instance_id"])
    if inst is None or inst.host != payload.get("host"):
        return
    new_event = False
    if payload.get("event") in _OBSERVED_EVENTS:
        new_event = _record_history(session, inst, payload)
    if inst.status == "terminated" or ownership.is_owned(session, inst.id):
        LOG.debug(
            "instance %s is %s: %s's report of %s left to its flow",
            inst.id,
            inst.status,
            inst.host,
            payload["power_state"],
        )
        return
    observed = payload["power_state"]
    values = {"power_state": observed, "updated_at": models.utcnow()}
    settled = _status_from_host(inst.status, payload)
    if settled is not None:
        values["status"], values["status_reason"] = settled
        if (inst.status, values["status"]) not in _SETTLED_BY_HOST:
            states.INSTANCE.check(inst.status, values["status"])
    elif new_event and _gives_the_cause(inst, payload):
        values["status_reason"] = payload.get("reason")
    recorded = session.execute(
        sa.update(I)
        .where(I.id == inst.id, I.status == inst.status)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not recorded:
        return  # a flow took it meanwhile: the next sync tells again
    if (inst.status, values.get("status")) in _SETTLED_BY_HOST:
        LOG.warning(
            "instance %s: %s -> %s, its host %s reports the guest %s "
            "(the error was: %s)",
            inst.id,
            inst.status,
            values["status"],
            inst.host,
            observed,
            inst.status_reason,
        )
    if observed != inst.power_state or "status" in values:
        publisher.power_state_changed(
            session,
            instance_id=inst.id,
            account_id=inst.account_id,
            host=inst.host,
            power_state=observed,
            previous_power_state=inst.power_state,
            status=values.get("status", inst.status),
            reason=payload.get("reason"),
        )


def _record_history(session, inst, payload: dict) -> bool:
    """One task per observed event, written once however often the
    notification is delivered (the agent's event id is the key). True if
    written now (False: delivered before)."""
    action, status, step = _OBSERVED_EVENTS[payload["event"]]
    key = payload.get("event_id")
    if key and session.scalar(
        sa.select(models.Task.id).where(
            models.Task.resource_id == inst.id, models.Task.request_id == key
        )
    ):
        return False
    task = tasks.create(
        session,
        account_id=inst.account_id,
        resource_id=inst.id,
        resource_type="instance",
        action=action,
        timeout_s=0,
        request_id=key,
    )
    session.flush()
    host, reason = payload.get("host"), payload.get("reason")
    tasks.add_event(
        session, task.id, "detected", "done", host=host, message=reason
    )
    if action == "ha_restart":
        tasks.add_event(
            session,
            task.id,
            step,
            status,
            host=host,
            duration_ms=payload.get("duration_ms"),
            message=None if status == "done" else reason,
        )
    tasks.set_status(session, task.id, "running")
    if status == "done":
        tasks.set_status(session, task.id, "done", step=step)
    else:
        tasks.fail(session, task.id, step, reason or payload["event"])
    return True


def orphans_to_remove(session, payload: dict) -> list[str]:
    """Of the domains a host runs that no record places there, those whose
    instance is terminated: leftovers of a delete that lost a message, safe
    to remove. Anything else (an id we never issued, one placed on another
    host) is reported and left for an operator: it may be someone's."""
    I = models.Instance
    listed = [
        o["instance_id"]
        for o in payload.get("instances") or []
        if ids.is_valid("instance", o.get("instance_id"))
    ]
    if not listed:
        return []
    rows = session.execute(
        sa.select(I.id, I.status, I.host).where(I.id.in_(listed))
    ).all()
    known = {r.id: r for r in rows}
    remove = []
    for iid in listed:
        r = known.get(iid)
        if r is not None and r.status == "terminated":
            remove.append(iid)
        else:
            LOG.warning(
                "unknown domain %s on %s (%s): left alone",
                iid,
                payload.get("host"),
                "no such instance"
                if r is None
                else f"instance is {r.status} on {r.host}",
            )
    return remove
