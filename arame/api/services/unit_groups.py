"""Unit groups: one experiment's units, made empty and cleaned up whole."""

import sqlalchemy as sa

from arame.api import pagination, policy
from arame.api.services import node_ops, unit_records
from arame.api.services.scheduling import SchedulerCaster
from arame.common import exceptions, ids, task_tree
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models

G = models.UnitGroup
U = models.Unit
T = models.Task


class UnitGroupService(SchedulerCaster):
    def create(self, ctxt, name: str) -> dict:
        now = models.utcnow()
        with db_engine.session() as s:
            group = models.UnitGroup(
                id=ids.generate("unit_group"),
                name=name,
                account_id=ctxt.account_id,
                status="active",
                created_at=now,
                updated_at=now,
            )
            try:
                with s.begin_nested():
                    s.add(group)
            except sa.exc.IntegrityError:
                raise exceptions.Conflict(
                    f"unit group {name!r} already exists", field="name"
                ) from None
            return unit_records.group_dicts(s, [group])[0]

    def get(self, ctxt, ref: str) -> dict:
        with db_engine.session() as s:
            g = unit_records.find_group(s, ctxt, ref, "unit_groups:get")
            return unit_records.group_dicts(s, [g])[0]

    def list(
        self, ctxt, *, name=None, account_id=None, limit=None, marker=None
    ) -> dict:
        stmt = sa.select(G)
        if account_id and account_id != ctxt.account_id:
            policy.enforce(ctxt, "unit_groups:all_accounts")
            stmt = stmt.where(G.account_id == account_id)
        elif not ctxt.is_admin or account_id:
            stmt = stmt.where(G.account_id == ctxt.account_id)
        if name:
            stmt = stmt.where(pagination.name_filter(G.name, name))
        with db_engine.session() as s:
            rows, nxt = pagination.page(s, stmt, G, marker, limit)
            return {
                "items": unit_records.group_dicts(s, rows),
                "next_marker": nxt,
            }

    def delete(self, ctxt, ref: str) -> dict:
        """The cleanup: every node of every unit, then the units, then the
        group (common/unit_cleanup.py), as one task, from any state. A
        cleanup already under way is answered with its task."""
        with db_engine.session() as s:
            g = unit_records.find_group(s, ctxt, ref, "unit_groups:delete")
            # Compare-and-set: of two cleanups at once, one makes the
            # task and the other answers with it.
            began = s.execute(
                sa.update(G)
                .where(G.id == g.id, G.status == "active")
                .values(status="deleting", updated_at=models.utcnow())
            ).rowcount
            if not began:
                running = s.scalar(
                    sa.select(T.id).where(
                        T.resource_id == g.id,
                        T.action == "delete",
                        T.status == "running",
                    )
                )
                if running is not None:
                    return {
                        "id": g.id,
                        "status": "deleting",
                        "task_id": running,
                    }
            s.execute(
                sa.update(U)
                .where(U.unit_group_id == g.id)
                .values(status="deleting", updated_at=models.utcnow())
            )
            unit_ids = list(
                s.scalars(sa.select(U.id).where(U.unit_group_id == g.id))
            )
            nodes = unit_records.live_nodes(s, unit_ids)
            parent = task_tree.create_parent(
                s,
                account_id=g.account_id,
                resource_id=g.id,
                resource_type="unit_group",
                action="delete",
                timeout_s=CONF.scheduler.delete_timeout,
                request_id=ctxt.request_id,
            )
            children = [
                c
                for ns in nodes.values()
                for inst in ns
                if (c := node_ops.begin_delete(s, ctxt, inst))
            ]
            task_tree.adopt(parent, [c.task for c in children])
        node_ops.cast_all(self.scheduler, ctxt, parent.id, children)
        return {"id": g.id, "status": "deleting", "task_id": parent.id}
