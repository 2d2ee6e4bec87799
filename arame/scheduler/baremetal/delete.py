"""Delete of a `bm` instance: power the node off, destroy its root volume,
take its names back, and offer the node again.

Steps: power-off (bma) -> node `cleaning` -> volume (sta: unexport, destroy
the clone: nothing of the tenant remains) -> unname (nsa) -> clean (node
`available`). A failure leaves the node in `error` with the reason and the
instance in `error`; a new DELETE tries again.

Every call is asked again while its agent is up and does not answer, and
each is idempotent: a delete adopted from a scheduler that died runs again
from the records (the node it still holds, the root volume not yet marked
deleted, the names), asking each agent again.
"""

import sqlalchemy as sa

from arame.agents.bma import rpcapi as bma_rpcapi
from arame.common import naming
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.scheduler.baremetal import BaremetalFlow, claims, nodes
from arame.scheduler.flows import liveness, root_volume
from arame.scheduler.flows.base import StepFailed, gives_up
from arame.scheduler.flows.delete import terminate
from arame.scheduler.flows.naming_steps import naming_cleanup
from arame.scheduler.flows.volumes import sta_down


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
            self.call_timeout("power-off")
            self.checkpoint()
            try:
                self.ask(
                    "power-off",
                    host,
                    self.bma.power_off,
                    node.bmc_message(),
                    down=liveness.service_down(bma_rpcapi.BINARY, host),
                )
            except Exception as e:
                if isinstance(e, StepFailed) or gives_up(e):
                    raise
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
        node = vol.storage_node
        down = sta_down(node)
        with self.step("volume", host=node):
            self.call_timeout("volume")
            self.checkpoint()
            self.ask(
                "volume",
                node,
                self.sta.unexport_volume,
                vol.id,
                force=force,
                down=down,
            )
            self.ask("volume", node, self.sta.delete_volume, vol.id, down=down)
        root_volume.mark_deleted(vol.id)
