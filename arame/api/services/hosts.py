"""The host list: hypervisors with capacity, storage nodes with their
pool's capacity (as their last heartbeat reported it), and the daemons on
each machine, with heartbeat age; older than service_down_time shows as
down. An admin takes a hypervisor out of service (disabled or
maintenance) and puts it back: the scheduler's ServiceAliveFilter gives
it no new instances, and its guests stay where they are."""

import sqlalchemy as sa

from arame.common import exceptions, ids
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models


def _age(at, now):
    return None if at is None else round((now - at).total_seconds(), 3)


def _state(age):
    return (
        "up" if age is not None and age <= CONF.service_down_time else "down"
    )


_NO_HYPERVISOR = dict.fromkeys(
    (
        "id",
        "provider",
        "hypervisor_type",
        "enabled",
        "maintenance",
        "maintenance_reason",
        "disabled_reason",
        "state_changed_by",
        "vcpus",
        "vcpus_used",
        "memory_mb",
        "memory_mb_used",
        "disk_gb",
        "disk_gb_used",
        "instances",
        "heartbeat_age_s",
    )
)


def _host_entry(h: models.Host, now) -> dict:
    age = _age(h.last_report_at, now)
    return {
        "name": h.name,
        "id": h.id,
        "state": _state(age),
        "provider": h.provider,
        "hypervisor_type": h.hypervisor_type,
        "enabled": h.enabled,
        "maintenance": h.maintenance,
        "maintenance_reason": h.maintenance_reason,
        "disabled_reason": h.disabled_reason,
        "state_changed_by": h.state_changed_by,
        "vcpus": h.vcpus,
        "vcpus_used": h.vcpus_used,
        "memory_mb": h.memory_mb,
        "memory_mb_used": h.memory_mb_used,
        "disk_gb": h.disk_gb,
        "disk_gb_used": h.disk_gb_used,
        "instances": h.instance_count,
        "heartbeat_age_s": age,
        "storage": None,
        "services": [],
    }


def _entries(hosts, services, pools, now) -> list[dict]:
    by_name: dict[str, dict] = {h.name: _host_entry(h, now) for h in hosts}
    for svc in services:
        age = _age(svc.last_heartbeat_at, now)
        entry = by_name.setdefault(
            svc.host,
            {
                "name": svc.host,
                **_NO_HYPERVISOR,
                "state": "down",
                "storage": None,
                "services": [],
            },
        )
        entry["services"].append(
            {
                "binary": svc.binary,
                "topic": svc.topic,
                "version": svc.version,
                "state": _state(age),
                "last_heartbeat_at": svc.last_heartbeat_at,
                "heartbeat_age_s": age,
            }
        )
        if entry["id"] is None:
            # A machine with daemons but no hypervisor: up if any daemon is.
            ages = [
                x["heartbeat_age_s"]
                for x in entry["services"]
                if x["heartbeat_age_s"] is not None
            ]
            entry["heartbeat_age_s"] = min(ages) if ages else None
            entry["state"] = _state(entry["heartbeat_age_s"])
    for p in pools:
        entry = by_name.get(p.name)
        if entry is not None:  # a pool whose daemon never registered:
            entry["storage"] = _storage(p, now)  # nothing to show it on
    return [by_name[k] for k in sorted(by_name)]


def list_hosts(ctxt) -> dict:
    now = models.utcnow()
    with db_engine.session() as s:
        hosts = s.scalars(
            sa.select(models.Host).order_by(models.Host.name)
        ).all()
        services = s.scalars(
            sa.select(models.Service).order_by(
                models.Service.host, models.Service.binary
            )
        ).all()
        pools = s.scalars(sa.select(models.StorageNode)).all()
    return {
        "items": _entries(hosts, services, pools, now),
        "next_marker": None,
    }


def _find_host(s, ref: str) -> models.Host | None:
    """The hypervisor row named by id or name (names compared exactly:
    MySQL's collation would let "HV1" find "hv1")."""
    if ids.is_valid("host", ref):
        row = s.get(models.Host, ref)
        if row is not None:
            return row
    row = s.scalar(sa.select(models.Host).where(models.Host.name == ref))
    return row if row is not None and row.name == ref else None


def _one(s, ref: str, now) -> dict:
    host = _find_host(s, ref)
    name = host.name if host is not None else ref
    services = s.scalars(
        sa.select(models.Service)
        .where(models.Service.host == name)
        .order_by(models.Service.binary)
    ).all()
    services = [x for x in services if x.host == name]
    if host is None and not services:
        raise exceptions.NotFound(f"host {ref} not found")
    pools = s.scalars(
        sa.select(models.StorageNode).where(models.StorageNode.name == name)
    ).all()
    return _entries([host] if host else [], services, pools, now)[0]


def get_host(ctxt, ref: str) -> dict:
    """By id or name; a machine that runs only daemons (no hypervisor)
    shows as in the list, with its hypervisor fields null."""
    with db_engine.session() as s:
        return _one(s, ref, models.utcnow())


def update_host(ctxt, ref: str, req) -> dict:
    given = req.model_fields_set
    if not given - {"reason"}:
        raise exceptions.Invalid(
            "nothing to change: give enabled or maintenance (and a reason)"
        )
    for field in given:
        if getattr(req, field) is None:
            raise exceptions.Invalid(
                f"{field}: null is not a value here", field=field
            )
    if req.reason is not None and not (
        req.enabled is False or req.maintenance is True
    ):
        raise exceptions.Invalid(
            "reason: only with enabled: false or maintenance: true (why "
            "the host is taken out)",
            field="reason",
        )
    with db_engine.session() as s:
        host = _find_host(s, ref)
        if host is None:
            if s.scalar(
                sa.select(sa.func.count())
                .select_from(models.Service)
                .where(models.Service.host == ref)
            ):
                raise exceptions.Conflict(
                    f"host {ref} runs no hypervisor (only daemons): there "
                    "is no work to place on it to stop"
                )
            raise exceptions.NotFound(f"host {ref} not found")
        if _apply(host, req):
            host.state_changed_by = ctxt.user_id
            host.updated_at = models.utcnow()
            s.flush()
        return _one(s, host.name, models.utcnow())


def _apply(host: models.Host, req) -> bool:
    """Set what the request asks; True if anything changed. The same
    values again change nothing (and leave who changed it last alone)."""
    want = {}
    if req.enabled is not None:
        want["enabled"] = req.enabled
        if req.enabled:
            want["disabled_reason"] = None
        elif req.reason is not None or host.enabled:
            want["disabled_reason"] = req.reason
    if req.maintenance is not None:
        want["maintenance"] = req.maintenance
        if not req.maintenance:
            want["maintenance_reason"] = None
        elif req.reason is not None or not host.maintenance:
            want["maintenance_reason"] = req.reason
    changed = {k: v for k, v in want.items() if getattr(host, k) != v}
    for k, v in changed.items():
        setattr(host, k, v)
    return bool(changed)


def _storage(p: models.StorageNode, now) -> dict:
    return {
        "pool": p.pool,
        "volume_mode": p.volume_mode,
        "size_bytes": p.size_bytes,
        "free_bytes": p.free_bytes,
        "allocated_bytes": p.allocated_bytes,
        "provisioned_bytes": p.provisioned_bytes,
        "reported_at": p.reported_at,
        "report_age_s": _age(p.reported_at, now),
    }
