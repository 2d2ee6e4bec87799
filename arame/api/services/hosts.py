"""The host list: hypervisors with capacity, storage nodes with their
pool's capacity (as their last heartbeat reported it), and the daemons on
each machine, with heartbeat age; older than service_down_time shows as
down."""

import sqlalchemy as sa

from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models


def _age(at, now):
    return None if at is None else round((now - at).total_seconds(), 3)


def _state(age):
    return (
        "up" if age is not None and age <= CONF.service_down_time else "down"
    )


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
    by_name: dict[str, dict] = {}
    for h in hosts:
        age = _age(h.last_report_at, now)
        by_name[h.name] = {
            "name": h.name,
            "id": h.id,
            "state": _state(age),
            "provider": h.provider,
            "hypervisor_type": h.hypervisor_type,
            "enabled": h.enabled,
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
    for svc in services:
        age = _age(svc.last_heartbeat_at, now)
        entry = by_name.setdefault(
            svc.host,
            {
                "name": svc.host,
                "id": None,
                "state": "down",
                "provider": None,
                "hypervisor_type": None,
                "enabled": None,
                "vcpus": None,
                "vcpus_used": None,
                "memory_mb": None,
                "memory_mb_used": None,
                "disk_gb": None,
                "disk_gb_used": None,
                "instances": None,
                "heartbeat_age_s": None,
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
    return {
        "items": [by_name[k] for k in sorted(by_name)],
        "next_marker": None,
    }


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
