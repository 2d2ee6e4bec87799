"""Units: identical nodes from one spec, added, deleted and powered as a
whole. Every write is one parent task over the nodes' own tasks
(common/task_tree.py); the records, quota included, are written for the
whole request before the 202, or not at all."""

import sqlalchemy as sa

from arame.api import pagination
from arame.api.services import instance_builder, node_ops, unit_records
from arame.api.services.scheduling import SchedulerCaster
from arame.common import (
    exceptions,
    ids,
    task_tree,
    tasks,
)
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models

U = models.Unit
I = models.Instance
P = models.Port

_BUILD_SOURCES = ("pending",)
_MOVING = frozenset({"pending", "scheduling", "starting"})


def _builder_spec(spec: dict) -> instance_builder.Spec:
    return instance_builder.Spec(
        flavor=spec["flavor"],
        image=spec["image"],
        network=spec.get("network"),
        security_groups=spec.get("security_groups"),
        key_pairs=list(spec.get("key_pairs") or []),
        user_data=spec.get("user_data"),
        root_gb=spec.get("root_gb"),
        ha_enabled=spec.get("ha_enabled", True),
        provider=spec.get("provider", "vm"),
    )


def _resolved(spec: dict, p: instance_builder.Prepared) -> dict:
    """The spec as kept: what its names resolved to now, so nodes added
    later are made of the same image, network, groups and keys even if a
    name comes to mean something else (and an image delete sees the unit
    as a user of its image)."""
    out = dict(spec, image=p.image.id, flavor=p.flavor.name)
    if p.network is not None:
        out["network"] = p.network.id
    if spec.get("security_groups"):
        out["security_groups"] = list(p.group_ids)
    if spec.get("key_pairs"):
        out["key_pairs"] = [kp.id for kp in p.key_pairs]
    return out


def _deleting_count(s, ctxt, u, nodes, count: int) -> list[node_ops.Child]:
    """The server's pick of count nodes: nodes in error first, then the
    newest; nodes still on their way (another request's add_nodes) last,
    so a count never cancels a build in flight while a settled node could
    go. Each is taken by a compare-and-set that skips a node a concurrent
    request took first, and the walk goes on down the ranking; 409 if too
    few are left (nothing written)."""
    if count > len(nodes):
        raise exceptions.Invalid(
            f"count: the unit has {len(nodes)} nodes, cannot delete {count}",
            field="count",
        )
    ranked = sorted(
        nodes,
        key=lambda i: (
            i.status == "error",
            i.status not in _MOVING,
            i.created_at,
            i.id,
        ),
        reverse=True,
    )
    taken: list[node_ops.Child] = []
    for inst in ranked:
        if len(taken) == count:
            break
        if c := node_ops.begin_delete(s, ctxt, inst, again=False):
            taken.append(c)
    if len(taken) < count:
        raise exceptions.Conflict(
            f"count: only {len(taken)} of unit {u.name}'s nodes are left "
            f"to delete (other requests are deleting the rest), cannot "
            f"delete {count}"
        )
    return taken


def _deleting(s, ctxt, nodes) -> list[node_ops.Child]:
    # A node terminated meanwhile has nothing left to delete.
    return [c for i in nodes if (c := node_ops.begin_delete(s, ctxt, i))]


def _how_many(count, ip_addresses, field: str = "count") -> list:
    """One entry per node to make: its fixed address or None."""
    if ip_addresses is not None:
        if count is not None and count != len(ip_addresses):
            raise exceptions.Invalid(
                f"{field}: {count} does not match the "
                f"{len(ip_addresses)} ip_addresses given",
                field=field,
            )
        if len(set(ip_addresses)) != len(ip_addresses):
            raise exceptions.Invalid(
                "ip_addresses: an address is given twice",
                field="ip_addresses",
            )
        return list(ip_addresses)
    return [None] * (1 if count is None else count)


class UnitService(SchedulerCaster):
    # -- reads --------------------------------------------------------------
    def get(self, ctxt, ref: str, group: str | None = None) -> dict:
        with db_engine.session() as s:
            u = unit_records.find_unit(s, ctxt, ref, "units:get", group)
            return unit_records.unit_dicts(s, [u])[0]

    def list(
        self, ctxt, *, unit_group=None, name=None, limit=None, marker=None
    ) -> dict:
        stmt = sa.select(U).where(U.account_id == ctxt.account_id)
        with db_engine.session() as s:
            if unit_group is not None:
                g = unit_records.find_group(s, ctxt, unit_group, "units:list")
                stmt = sa.select(U).where(U.unit_group_id == g.id)
            if name:
                stmt = stmt.where(pagination.name_filter(U.name, name))
            rows, nxt = pagination.page(s, stmt, U, marker, limit)
            return {
                "items": unit_records.unit_dicts(s, rows),
                "next_marker": nxt,
            }

    # -- writes -------------------------------------------------------------
    def create(self, ctxt, req) -> dict:
        slots = _how_many(req.count, req.ip_addresses)
        spec = req.spec.model_dump(exclude_none=True)
        instance_builder.before(ctxt, _builder_spec(spec))
        with db_engine.session() as s:
            g = unit_records.find_group(
                s, ctxt, req.unit_group, "units:create"
            )
            self._check_active(g, "unit group")
            self._check_own(ctxt, g, "unit group")
            prepared = instance_builder.prepare(
                s, ctxt, _builder_spec(spec), field_prefix="spec."
            )
            spec = _resolved(spec, prepared)
            now = models.utcnow()
            unit = models.Unit(
                id=ids.generate("unit"),
                name=req.name,
                account_id=ctxt.account_id,
                unit_group_id=g.id,
                spec=spec,
                status="active",
                node_seq=len(slots),
                created_at=now,
                updated_at=now,
            )
            try:
                with s.begin_nested():
                    s.add(unit)
            except sa.exc.IntegrityError:
                raise exceptions.Conflict(
                    f"unit {req.name!r} already exists in unit group {g.name}",
                    field="name",
                ) from None
            parent, children = self._make_nodes(
                s, ctxt, unit, prepared, slots, 0, "create"
            )
            out = unit_records.unit_dicts(s, [unit])[0]
        node_ops.cast_all(self.scheduler, ctxt, parent.id, children)
        out["task_id"] = parent.id
        return out

    def update(self, ctxt, ref: str, req) -> dict:
        with db_engine.session() as s:
            u = unit_records.find_unit(s, ctxt, ref, "units:update")
            if req.name is not None and req.name != u.name:
                try:
                    with s.begin_nested():
                        u.name = req.name
                        u.updated_at = models.utcnow()
                except sa.exc.IntegrityError:
                    raise exceptions.Conflict(
                        f"unit {req.name!r} already exists in its group",
                        field="name",
                    ) from None
            return unit_records.unit_dicts(s, [u])[0]

    def delete(self, ctxt, ref: str) -> dict:
        with db_engine.session() as s:
            u = unit_records.find_unit(s, ctxt, ref, "units:delete")
            if u.status == "deleting":
                running = s.scalar(
                    sa.select(models.Task.id).where(
                        models.Task.resource_id == u.id,
                        models.Task.action == "delete",
                        models.Task.status == "running",
                    )
                )
                if running is not None:
                    return {
                        "id": u.id,
                        "status": "deleting",
                        "task_id": running,
                    }
            u.status = "deleting"
            u.updated_at = models.utcnow()
            nodes = unit_records.live_nodes(s, [u.id])[u.id]
            parent = self._parent(s, ctxt, u, "delete")
            children = _deleting(s, ctxt, nodes)
            task_tree.adopt(parent, [c.task for c in children])
        node_ops.cast_all(self.scheduler, ctxt, parent.id, children)
        return {"id": u.id, "status": "deleting", "task_id": parent.id}

    def action(self, ctxt, ref: str, req) -> dict:
        handler = {
            "add_nodes": self._add_nodes,
            "delete_nodes": self._delete_nodes,
            "power_on": self._power,
            "power_off": self._power,
        }[req.action]
        return handler(ctxt, ref, req)

    def _add_nodes(self, ctxt, ref: str, req) -> dict:
        if req.node_ids is not None:
            raise exceptions.Invalid(
                "node_ids: add_nodes takes count or ip_addresses",
                field="node_ids",
            )
        slots = _how_many(req.count, req.ip_addresses)
        instance_builder.before(ctxt)
        with db_engine.session() as s:
            u = unit_records.find_unit(s, ctxt, ref, "units:action")
            self._check_active(u, "unit")
            self._check_own(ctxt, u, "unit")
            prepared = instance_builder.prepare(
                s, ctxt, _builder_spec(u.spec), field_prefix="spec."
            )
            first = self._reserve_numbers(s, u, len(slots))
            parent, children = self._make_nodes(
                s, ctxt, u, prepared, slots, first, "add_nodes"
            )
        node_ops.cast_all(self.scheduler, ctxt, parent.id, children)
        return {
            "id": u.id,
            "task_id": parent.id,
            "node_ids": [c.instance_id for c in children],
        }

    def _delete_nodes(self, ctxt, ref: str, req) -> dict:
        given = [
            f
            for f in ("count", "ip_addresses", "node_ids")
            if getattr(req, f) is not None
        ]
        if len(given) != 1:
            raise exceptions.Invalid(
                "delete_nodes takes exactly one of count, ip_addresses, "
                "node_ids",
                field="count",
            )
        with db_engine.session() as s:
            u = unit_records.find_unit(s, ctxt, ref, "units:action")
            self._check_active(u, "unit")
            nodes = [
                i
                for i in unit_records.live_nodes(s, [u.id])[u.id]
                if i.status != "shuttingdown"
            ]
            if req.count is not None:
                children = _deleting_count(s, ctxt, u, nodes, req.count)
                chosen_ids = [c.instance_id for c in children]
            else:
                chosen = self._select(s, u, nodes, req)
                children = _deleting(s, ctxt, chosen)
                chosen_ids = [i.id for i in chosen]
            parent = self._parent(s, ctxt, u, "delete_nodes")
            task_tree.adopt(parent, [c.task for c in children])
        node_ops.cast_all(self.scheduler, ctxt, parent.id, children)
        return {
            "id": u.id,
            "task_id": parent.id,
            "node_ids": chosen_ids,
        }

    def _power(self, ctxt, ref: str, req) -> dict:
        if req.count is not None or req.ip_addresses is not None:
            raise exceptions.Invalid(
                f"{req.action} takes node_ids (default: every node)",
                field="count" if req.count is not None else "ip_addresses",
            )
        instance_action = "start" if req.action == "power_on" else "stop"
        with db_engine.session() as s:
            u = unit_records.find_unit(s, ctxt, ref, "units:action")
            self._check_active(u, "unit")
            nodes = [
                i
                for i in unit_records.live_nodes(s, [u.id])[u.id]
                if i.status != "shuttingdown"
            ]
            chosen = self._select(s, u, nodes, req) if req.node_ids else nodes
            parent = self._parent(s, ctxt, u, req.action)
            children = []
            for inst in chosen:
                child = node_ops.begin_action(s, ctxt, inst, instance_action)
                if child is None:
                    # Already there (or busy): said in the history, and
                    # not waited for.
                    tasks.add_event(
                        s,
                        parent.id,
                        f"node {inst.name}"[:64],
                        "done",
                        host=inst.host,
                        message=f"nothing to do: the node is {inst.status}",
                    )
                else:
                    children.append(child)
            task_tree.adopt(parent, [c.task for c in children])
        node_ops.cast_all(self.scheduler, ctxt, parent.id, children)
        return {
            "id": u.id,
            "task_id": parent.id,
            "node_ids": [c.instance_id for c in children],
        }

    # -- helpers ------------------------------------------------------------
    @staticmethod
    def _check_active(row, what: str) -> None:
        if row.status != "active":
            raise exceptions.Conflict(
                f"{what} {row.name} is being deleted", status=row.status
            )

    @staticmethod
    def _check_own(ctxt, row, what: str) -> None:
        # Nodes are the caller's account's instances (its quota, its
        # keys and networks): an admin does not make them in another's.
        if row.account_id != ctxt.account_id:
            raise exceptions.Forbidden(
                f"{what} {row.name} belongs to account {row.account_id}: "
                "only its own users add nodes to it"
            )

    @staticmethod
    def _reserve_numbers(s, u: models.Unit, n: int) -> int:
        """Take n node numbers by compare-and-set (two add_nodes at once
        get different names); the first one's offset."""
        for _ in range(20):
            seq = s.scalar(sa.select(U.node_seq).where(U.id == u.id))
            rc = s.execute(
                sa.update(U)
                .where(U.id == u.id, U.node_seq == seq)
                .values(node_seq=seq + n, updated_at=models.utcnow())
                .execution_options(synchronize_session=False)
            ).rowcount
            if rc == 1:
                return seq
        raise exceptions.Conflict(
            f"unit {u.name} is changing too fast; try again"
        )

    def _parent(self, s, ctxt, u: models.Unit, action: str) -> models.Task:
        timeout = {
            "create": CONF.scheduler.build_timeout,
            "add_nodes": CONF.scheduler.build_timeout,
            "power_on": CONF.scheduler.action_timeout,
            "power_off": CONF.scheduler.action_timeout,
        }.get(action, CONF.scheduler.delete_timeout)
        return task_tree.create_parent(
            s,
            account_id=u.account_id,
            resource_id=u.id,
            resource_type="unit",
            action=action,
            timeout_s=timeout,
            request_id=ctxt.request_id,
        )

    def _make_nodes(self, s, ctxt, u, prepared, slots, first, action):
        parent = self._parent(s, ctxt, u, action)
        names = [f"{u.name}-{first + k + 1}" for k in range(len(slots))]
        made = instance_builder.make(
            s,
            ctxt,
            prepared,
            names,
            slots,
            unit_id=u.id,
            parent_task_id=parent.id,
        )
        task_tree.adopt(parent, [m.task for m in made])
        children = [
            node_ops.Child(
                m.instance.id,
                m.task,
                lambda sched, c, tid, iid, p=m.instance.provider: (
                    sched.build_instance(c, tid, iid, p)
                ),
                _BUILD_SOURCES,
            )
            for m in made
        ]
        return parent, children

    @staticmethod
    def _select(s, u: models.Unit, nodes: list, req) -> list:
        """The nodes a request names, 422 naming any that is not one of
        the unit's."""
        if req.ip_addresses is not None:
            by_ip = dict(
                s.execute(
                    sa.select(P.ip_address, P.instance_id).where(
                        P.instance_id.in_([i.id for i in nodes])
                    )
                ).all()
            )
            missing = [ip for ip in req.ip_addresses if ip not in by_ip]
            if missing:
                raise exceptions.Invalid(
                    f"ip_addresses: no node of unit {u.name} has "
                    f"{', '.join(missing)}",
                    field="ip_addresses",
                )
            wanted = {by_ip[ip] for ip in req.ip_addresses}
            return [i for i in nodes if i.id in wanted]
        by_ref = {i.id: i for i in nodes} | {i.name: i for i in nodes}
        missing = [n for n in req.node_ids if n not in by_ref]
        if missing:
            raise exceptions.Invalid(
                f"node_ids: {', '.join(missing)} is not a node of unit "
                f"{u.name}",
                field="node_ids",
            )
        seen, out = set(), []
        for n in req.node_ids:
            if by_ref[n].id not in seen:
                seen.add(by_ref[n].id)
                out.append(by_ref[n])
        return out
