"""Start, stop and reboot of a `bm` instance: the instance action flow
(flows/actions.py) as it is, with its node's BMC in place of a hypervisor.

This adapter answers the hypervisor proxy's calls (host, instance id) by
finding the node the instance holds and asking bma; a stop is a soft power
off (ACPI, hard after bma's deadline), as a guest shutdown is on hva.
Every bma operation is idempotent, so an action adopted from a scheduler
that died asks it again.
"""

import sqlalchemy as sa

from arame.agents.bma import rpcapi as bma_rpcapi
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.scheduler.flows import liveness


class NodePower:
    def __init__(self, bma):
        self.bma = bma

    def _node(self, instance_id: str) -> dict:
        N = models.BaremetalNode
        with db_engine.session() as s:
            node = s.scalar(
                sa.select(N).where(
                    N.instance_id == instance_id, N.provision_state == "active"
                )
            )
            if node is None:
                raise LookupError(f"{instance_id} holds no active node")
            return node.bmc_message()

    def host_down(self, host: str):
        """The liveness for the flow's ask(): an agent that does not
        answer is asked again until its heartbeats stop."""
        return liveness.service_down(bma_rpcapi.BINARY, host)

    def power_on(self, ctxt, host, instance_id, timeout):
        return self.bma.power_on(
            ctxt, host, self._node(instance_id), timeout=timeout
        )

    def power_off(self, ctxt, host, instance_id, timeout):
        return self.bma.soft_power_off(
            ctxt, host, self._node(instance_id), timeout=timeout
        )

    def reboot(self, ctxt, host, instance_id, timeout):
        return self.bma.reboot(
            ctxt, host, self._node(instance_id), timeout=timeout
        )
