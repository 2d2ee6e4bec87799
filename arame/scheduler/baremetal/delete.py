"""Delete of a `bm` instance: power the node off, destroy its root volume,
take its names back, and offer the node again.

Steps: power-off (bma) -> node `cleaning` -> volume (sta: unexport, destroy
the clone: nothing of the tenant remains) -> unname (nsa) -> clean (node
`available`). A failure leaves the node in `error` with the reason and the
instance in `error`; a new DELETE tries again.
"""

import sqlalchemy as sa

from arame.common import naming
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.scheduler.baremetal import BaremetalFlow, claims, nodes
from arame.scheduler.flows import root_volume
from arame.scheduler.flows.base import StepFailed
from arame.scheduler.flows.delete import terminate
from arame.scheduler.flows.naming_steps import naming_cleanup


class BaremetalDeleteFlow(BaremetalFlow):
    action = "delete"

    def _held_node(self) -> tuple[models.BaremetalNode | None, str | None]:
        N = models.BaremetalNode
        with db_engine.session() as s:
            node = s.scalar(
                sa.select(N).where(N.instance_id == self.instance_id)
            )
            return node, (claims.bma_host(s, node) if node else None)

    def run(self) -> None:
        if not self.begin():
            return
        inst = self.instance
        node, host = self._held_node()
        try:
            if node is not None:
                self.power_off(node, host)
            # Off by the BMC's word: a session tgtd still shows is the dead
            # node's (its TCP stack went with the power, no FIN was sent).
            self.destroy_volume(force=node is not None)
            if self.nsa is not None:
                with db_engine.session() as s:
                    names = naming.nodes(s)
                naming_cleanup(self, names)
            if node is not None:
                with self.step("clean", host=host):
                    claims.release(inst.id, node.id, "available")
        except StepFailed as e:
            if node is not None:
                # Still held: the tenant's disk may remain; a new DELETE
                # of the instance tries again from here.
                with db_engine.session() as s:
                    nodes.set_state(
                        s,
                        node.id,
                        "error",
                        reason=(
                            f"release of {inst.id} failed at {e.step}: "
                            f"{e.message}"
                        ),
                    )
            self.fail(e.step, e.message)
            return
        with db_engine.session() as s:
            terminate(self, s)
            self.finish(s)
        self.emit_usage("close", inst)

    def power_off(self, node: models.BaremetalNode, host: str | None) -> None:
        with self.step("power-off", host=host):
            if host is None:
                raise StepFailed(
                    "power-off",
                    "no bare-metal agent (arame-bma) is up to drive the node",
                )
            timeout = self.call_timeout("power-off")
            self.checkpoint()
            try:
                self.bma.power_off(
                    self.ctxt, host, node.bmc_message(), timeout=timeout
                )
            except Exception as e:
                raise StepFailed(
                    "power-off", nodes.bmc_reason(e, f"power off failed: {e}")
                ) from e
        with db_engine.session() as s:
            nodes.set_state(
                s,
                node.id,
                "cleaning",
                src=("deploying", "active", "error"),
                power_state="off",
            )

    def destroy_volume(self, force: bool = False) -> None:
        with db_engine.session() as s:
            vol = root_volume.root_volume_of(s, self.instance_id)
        if vol is None or self.sta is None:
            return
        # After the power is off: a session tgtd still shows is the dead
        # node's, hence `force` (no initiator is really there).
        with self.step("volume", host=vol.storage_node):
            timeout = self.call_timeout("volume")
            self.checkpoint()
            self.sta.unexport_volume(
                self.ctxt,
                vol.storage_node,
                vol.id,
                timeout=timeout,
                force=force,
            )
            self.sta.delete_volume(
                self.ctxt, vol.storage_node, vol.id, timeout=timeout
            )
        root_volume.mark_deleted(vol.id)
