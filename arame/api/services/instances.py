"""Instances: what the API itself decides before it hands over to the
scheduler (validation, the first records), and the reads."""

import sqlalchemy as sa

from arame.agents.hva import rpcapi as hva_rpcapi
from arame.api import pagination, policy, tags
from arame.api.errors import ServiceUnavailable
from arame.api.lookup import load_owned
from arame.api.services import instance_builder, node_ops
from arame.api.services.instance_builder import default_hostname  # noqa: F401
from arame.api.services.scheduling import SchedulerCaster, dispatch
from arame.common import (
    exceptions,
    ipam,
    secgroups_db,
    states,
)
from arame.common.db import engine as db_engine
from arame.common.db import models, prepared

_NOT_YET = {
    "volumes": "volumes",
}


def to_dict(
    inst: models.Instance,
    addresses=(),
    groups=(),
    tag_list=(),
    volumes=(),
    unit_group=None,
) -> dict:
    return {
        "id": inst.id,
        "name": inst.name,
        "hostname": inst.hostname,
        "status": inst.status,
        "status_reason": inst.status_reason,
        "power_state": inst.power_state,
        "flavor": inst.flavor,
        "image": inst.image_id,
        "host": inst.host,
        "account_id": inst.account_id,
        "ha_enabled": inst.ha_enabled,
        "key_pair": inst.key_pair_id,
        "key_pairs": key_pair_ids(inst),
        "root_gb": inst.root_gb,
        "unit": inst.unit_id,
        "unit_group": unit_group,
        "addresses": list(addresses),
        "security_groups": list(groups),
        "tags": list(tag_list),
        "volumes": list(volumes),
        "created_at": inst.created_at,
        "updated_at": inst.updated_at,
        "terminated_at": inst.terminated_at,
    }


def key_pair_ids(inst: models.Instance) -> list[str]:
    if inst.key_pair_ids:
        return list(inst.key_pair_ids)
    return [inst.key_pair_id] if inst.key_pair_id else []


def unit_groups_of(s, unit_ids) -> dict[str, str]:
    """{unit id: its group's id}, in one query."""
    wanted = {u for u in unit_ids if u}
    if not wanted:
        return {}
    U = models.Unit
    return {
        r.id: r.unit_group_id
        for r in s.execute(
            sa.select(U.id, U.unit_group_id).where(U.id.in_(wanted))
        )
    }


def to_dicts(s, instances) -> list[dict]:
    """Instances with their addresses, groups, tags, attached data volumes
    and unit groups, in five queries in all (built once: every GET of an
    instance runs them)."""
    iids = [i.id for i in instances]
    addrs: dict[str, list[dict]] = {i: [] for i in iids}
    vols: dict[str, list[dict]] = {i: [] for i in iids}
    if iids:
        at = prepared.params(ids=iids)
        for p in s.execute(_PORTS_OF, at):
            d = ipam.port_dict(p)
            if p.floating is not None:
                d["floating_ip"] = p.floating
            addrs[p.instance_id].append(d)
        for v in s.execute(_DATA_VOLUMES_OF, at):
            vols[v.instance_id].append({"id": v.id, "device": v.device})
    groups = secgroups_db.groups_by_instance(s, iids)
    labels = tags.tags_of(s, iids)
    ugs = unit_groups_of(s, (i.unit_id for i in instances))
    return [
        to_dict(
            i,
            addrs[i.id],
            groups[i.id],
            labels[i.id],
            vols[i.id],
            ugs.get(i.unit_id),
        )
        for i in instances
    ]


_P = models.Port.__table__
_F = models.FloatingIp.__table__
_V = models.Volume.__table__
# The floating IP in the same query (port_id is unique there): every
# instance read pays no extra round trip for it.
_PORTS_OF = (
    sa.select(
        _P.c.instance_id,
        _P.c.network_id,
        _P.c.ip_address,
        _P.c.mac_address,
        _P.c.hostname,
        _F.c.address.label("floating"),
    )
    .outerjoin(_F, _F.c.port_id == _P.c.id)
    .where(_P.c.instance_id.in_(prepared.bound_list("ids")))
    .order_by(_P.c.id)
)
_DATA_VOLUMES_OF = (
    sa.select(_V.c.id, _V.c.device, _V.c.instance_id)
    .where(
        _V.c.instance_id.in_(prepared.bound_list("ids")),
        _V.c.root_of.is_(None),
        _V.c.status.in_(("attaching", "attached", "detaching")),
    )
    .order_by(_V.c.device, _V.c.id)
)


class InstanceService(SchedulerCaster):
    def __init__(self, scheduler=None, hva=None):
        super().__init__(scheduler)
        self._hva = hva

    @property
    def hva(self):
        if self._hva is None:
            self._hva = hva_rpcapi.HypervisorAPI()
        return self._hva

    # -- reads --------------------------------------------------------------
    def _get(self, s, ctxt, instance_id: str, rule: str) -> models.Instance:
        return load_owned(
            s, ctxt, models.Instance, "instance", instance_id, rule
        )

    def get(self, ctxt, instance_id: str) -> dict:
        with db_engine.session() as s:
            inst = self._get(s, ctxt, instance_id, "instances:get")
            return to_dicts(s, [inst])[0]

    def list(
        self,
        ctxt,
        *,
        status=None,
        name=None,
        account_id=None,
        limit=None,
        marker=None,
        sort=None,
        tag=None,
        unit=None,
    ) -> dict:
        I = models.Instance
        stmt = sa.select(I)
        if account_id and account_id != ctxt.account_id:
            policy.enforce(ctxt, "instances:all_accounts")
            stmt = stmt.where(I.account_id == account_id)
        elif not ctxt.is_admin or account_id:
            stmt = stmt.where(I.account_id == ctxt.account_id)
        if status:
            stmt = stmt.where(I.status == status)
        else:
            stmt = stmt.where(I.status != "terminated")
        if name:
            stmt = stmt.where(pagination.name_filter(I.name, name))
        if unit:
            stmt = stmt.where(I.unit_id == unit)
        stmt = tags.filter_by(stmt, I.id, tag)
        with db_engine.session() as s:
            rows, nxt = pagination.page(s, stmt, I, marker, limit, sort=sort)
            return {"items": to_dicts(s, rows), "next_marker": nxt}

    # -- writes -------------------------------------------------------------
    def create(self, ctxt, req) -> dict:
        for field, what in _NOT_YET.items():
            if getattr(req, field) not in (None, []):
                raise exceptions.Invalid(
                    f"{field}: {what} are not available in this release yet",
                    field=field,
                )
        if req.key_pair and req.key_pairs is not None:
            raise exceptions.Invalid(
                "key_pairs: give key_pair or key_pairs, not both",
                field="key_pairs",
            )
        spec = instance_builder.Spec(
            flavor=req.flavor,
            image=req.image,
            network=req.network,
            security_groups=req.security_groups,
            key_pairs=[req.key_pair] if req.key_pair else req.key_pairs or [],
            user_data=req.user_data,
            root_gb=req.root_gb,
            ha_enabled=req.ha_enabled,
        )
        instance_builder.before(ctxt, spec)
        with db_engine.session() as s:
            prepared = instance_builder.prepare(
                s,
                ctxt,
                spec,
                key_pairs_field="key_pair" if req.key_pair else "key_pairs",
            )
            (made,) = instance_builder.make(
                s,
                ctxt,
                prepared,
                [req.name],
                [req.ip_address],
                tags=req.tags,
                hostnames=[req.hostname],
            )
        instance_builder.cast(ctxt, [made], self.scheduler)
        out = to_dict(
            made.instance,
            [ipam.port_dict(p) for p in made.ports],
            made.groups,
            made.tags,
        )
        out["task_id"] = made.task.id
        return out

    def delete(self, ctxt, instance_id: str) -> dict:
        with db_engine.session() as s:
            inst = self._get(s, ctxt, instance_id, "instances:delete")
            if inst.status == "terminated":
                raise exceptions.Conflict(
                    f"instance {instance_id} is already terminated"
                )
            child = node_ops.begin_delete(s, ctxt, inst)
            if child is None:
                raise exceptions.Conflict(
                    f"instance {instance_id} changed state; try again"
                )
            out = to_dicts(s, [inst])[0]
        out.update(status="shuttingdown", status_reason=None)
        self._send(ctxt, child)
        out["task_id"] = child.task.id
        return out

    def action(self, ctxt, instance_id: str, action: str) -> dict:
        with db_engine.session() as s:
            inst = self._get(s, ctxt, instance_id, "instances:action")
            child = node_ops.begin_action(s, ctxt, inst, action)
            if child is None:
                (src,) = states.INSTANCE_TASKS[action].src
                raise exceptions.Conflict(
                    f"cannot {action} instance {instance_id} while it is "
                    f"{inst.status}; it must be {src}",
                    status=inst.status,
                    required=src,
                )
        self._send(ctxt, child)
        (busy,) = child.src_states
        return {"id": inst.id, "status": busy, "task_id": child.task.id}

    def _send(self, ctxt, child: node_ops.Child) -> None:
        self._cast(
            lambda: child.send(
                self.scheduler, ctxt, child.task.id, child.instance_id
            ),
            child.task.id,
            child.instance_id,
            child.src_states,
        )

    def console(self, ctxt, instance_id: str) -> dict:
        with db_engine.session() as s:
            inst = self._get(s, ctxt, instance_id, "instances:console")
        if inst.host is None or inst.status in (
            "pending",
            "scheduling",
            "terminated",
        ):
            raise exceptions.Conflict(
                f"instance {instance_id} is {inst.status}: it has no console"
            )
        try:
            return self.hva.get_console_output(
                ctxt, inst.host, inst.id, timeout=10
            )
        except Exception as e:
            raise ServiceUnavailable(
                f"the hypervisor agent on {inst.host} did not answer: "
                f"{type(e).__name__}"
            ) from e

    def _cast(self, send, task_id, instance_id, src_states) -> None:
        dispatch(send, task_id, (models.Instance, instance_id, src_states))
