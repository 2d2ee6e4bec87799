"""Bare-metal nodes: the admin's inventory of servers and their BMCs.

Enroll, edit and delete change only records; `manage` and `provide` reach
the BMC, so they are tasks the scheduler runs (the API casts, never calls
an agent); maintenance is a flag. The BMC password goes in and never out:
no answer, no log line, no error message carries it.
"""

import sqlalchemy as sa

from arame.api import pagination
from arame.api.services.scheduling import SchedulerCaster, dispatch
from arame.common import bmc, exceptions, ids, secretbox, states, tasks
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models

N = models.BaremetalNode


def to_dict(n: models.BaremetalNode) -> dict:
    return {
        "id": n.id,
        "name": n.name,
        "bmc_address": n.bmc_address,
        "bmc_port": n.bmc_port,
        "bmc_username": n.bmc_username,
        "bmc_interface": n.bmc_interface,
        "bma_host": n.bma_host,
        "macs": list(n.macs),
        "cpus": n.cpus,
        "memory_mb": n.memory_mb,
        "disk_gb": n.disk_gb,
        "resource_class": n.resource_class,
        "provision_state": n.provision_state,
        "status": n.provision_state,
        "status_reason": n.status_reason,
        "maintenance": n.maintenance,
        "maintenance_reason": n.maintenance_reason,
        "power_state": n.power_state,
        "instance_id": n.instance_id,
        "created_at": n.created_at,
        "updated_at": n.updated_at,
    }


def _check_bmc(values: dict) -> dict:
    """What the agent would refuse is a 422 now, with the field named."""
    iface = values.get("bmc_interface", "lanplus")
    check = {
        "bmc_address": bmc.bmc_address,
        "bmc_username": bmc.bmc_username,
        "bmc_password": lambda v: bmc.bmc_password(v, iface),
    }
    for field, fn in check.items():
        if field in values:
            try:
                values[field] = fn(values[field])
            except bmc.InvalidNode as e:
                # checks never repeat a password in their message.
                raise exceptions.Invalid(
                    f"{field}: {e}", field=field
                ) from None
    if "bmc_password" in values:
        values["bmc_password"] = secretbox.seal(values["bmc_password"])
    return values


def _macs_free(s, macs: list[str], node_id: str | None = None) -> None:
    """A MAC names one node: DHCP and the boot script follow it."""
    for other in s.scalars(sa.select(N).where(N.id != (node_id or ""))):
        shared = set(other.macs) & set(macs)
        if shared:
            raise exceptions.Conflict(
                f"MAC {min(shared)} belongs to node {other.id}",
                node_id=other.id,
            )


def _name_free(s, name: str, node_id: str | None = None) -> None:
    if s.scalar(
        sa.select(N.id).where(N.name == name, N.id != (node_id or ""))
    ):
        raise exceptions.Conflict(f"a node named {name!r} exists", name=name)


class BaremetalService(SchedulerCaster):
    def _load(self, s, node_id: str) -> models.BaremetalNode:
        row = s.get(N, node_id) if ids.is_valid("node", node_id) else None
        if row is None:
            raise exceptions.NotFound(f"node {node_id} not found")
        return row

    # -- reads --------------------------------------------------------------
    def get(self, ctxt, node_id: str) -> dict:
        with db_engine.session() as s:
            return to_dict(self._load(s, node_id))

    def list(
        self,
        ctxt,
        *,
        status=None,
        name=None,
        maintenance=None,
        limit=None,
        marker=None,
    ) -> dict:
        stmt = sa.select(N)
        if status:
            stmt = stmt.where(N.provision_state == status)
        if name:
            stmt = stmt.where(pagination.name_filter(N.name, name))
        if maintenance is not None:
            stmt = stmt.where(N.maintenance.is_(maintenance))
        with db_engine.session() as s:
            rows, nxt = pagination.page(s, stmt, N, marker, limit)
            return {"items": [to_dict(r) for r in rows], "next_marker": nxt}

    # -- records ------------------------------------------------------------
    def create(self, ctxt, req) -> dict:
        values = _check_bmc(req.model_dump())
        with db_engine.session() as s:
            _name_free(s, req.name)
            _macs_free(s, req.macs)
            now = models.utcnow()
            node = N(
                id=ids.generate("node"),
                provision_state=states.NODE.initial,
                maintenance=False,
                created_at=now,
                updated_at=now,
                **values,
            )
            s.add(node)
        return to_dict(node)

    def update(self, ctxt, node_id: str, req) -> dict:
        values = req.model_dump(exclude_unset=True)
        for field, value in values.items():
            if value is None:
                raise exceptions.Invalid(
                    f"{field}: cannot be null", field=field
                )
        with db_engine.session() as s:
            node = self._load(s, node_id)
            self._refuse_busy(node, "change")
            if "bmc_password" in values and "bmc_interface" not in values:
                values["bmc_interface"] = node.bmc_interface
            _check_bmc(values)
            if "name" in values:
                _name_free(s, values["name"], node.id)
            if "macs" in values:
                _macs_free(s, values["macs"], node.id)
            rc = s.execute(
                sa.update(N)
                .where(
                    N.id == node.id,
                    N.provision_state.not_in(states.NODE_BUSY),
                    N.instance_id.is_(None),
                )
                .values(updated_at=models.utcnow(), **values)
                .execution_options(synchronize_session=False)
            ).rowcount
            if rc != 1:
                raise exceptions.Conflict(
                    f"node {node.id} changed state; try again"
                )
            s.refresh(node)
            return to_dict(node)

    def delete(self, ctxt, node_id: str) -> None:
        with db_engine.session() as s:
            node = self._load(s, node_id)
            self._refuse_busy(node, "delete")
            rc = s.execute(
                sa.delete(N)
                .where(
                    N.id == node.id,
                    N.provision_state.not_in(states.NODE_BUSY),
                    N.instance_id.is_(None),
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            if rc != 1:
                raise exceptions.Conflict(
                    f"node {node.id} changed state; try again"
                )

    @staticmethod
    def _refuse_busy(node: models.BaremetalNode, what: str) -> None:
        if node.provision_state in states.NODE_BUSY or node.instance_id:
            held = f" (held by {node.instance_id})" if node.instance_id else ""
            raise exceptions.Conflict(
                f"cannot {what} node {node.id} while it is "
                f"{node.provision_state}{held}",
                provision_state=node.provision_state,
                instance_id=node.instance_id,
            )

    # -- actions ------------------------------------------------------------
    def action(self, ctxt, node_id: str, body) -> dict:
        if body.action == "maintenance":
            return self._maintenance(node_id, body.on, body.reason)
        src, _ = states.NODE_ACTIONS[body.action]
        with db_engine.session() as s:
            node = self._load(s, node_id)
            if node.provision_state not in src:
                raise exceptions.Conflict(
                    f"cannot {body.action} node {node.id} while it is "
                    f"{node.provision_state}; it must be one of: "
                    f"{', '.join(src)}",
                    provision_state=node.provision_state,
                )
            if self._task_running(s, node.id):
                raise exceptions.Conflict(
                    f"node {node.id} has a task in progress; wait for it"
                )
            task = tasks.create(
                s,
                account_id=ctxt.account_id,
                resource_id=node.id,
                resource_type="node",
                action=body.action,
                timeout_s=CONF.scheduler.build_timeout,
                request_id=ctxt.request_id,
            )
            out = to_dict(node)
        # The node keeps its state while the task runs: a failed cast
        # leaves it as it was.
        dispatch(
            lambda: self.scheduler.node_action(
                ctxt, task.id, node_id, body.action
            ),
            task.id,
        )
        return {**out, "task_id": task.id}

    @staticmethod
    def _task_running(s, node_id: str) -> bool:
        T = models.Task
        return (
            s.scalar(
                sa.select(T.id)
                .where(
                    T.resource_id == node_id,
                    T.status.in_(("queued", "running")),
                )
                .limit(1)
            )
            is not None
        )

    def _maintenance(self, node_id: str, on: bool, reason) -> dict:
        with db_engine.session() as s:
            node = self._load(s, node_id)
            node.maintenance = on
            node.maintenance_reason = reason if on else None
            node.updated_at = models.utcnow()
            s.flush()
            return {**to_dict(node), "task_id": None}
