"""Node tasks: `manage` (the BMC answers these credentials) and `provide`
(power the node off and offer it to the scheduler).

A node task is recorded as instance tasks are (steps as events, a deadline);
its failure puts the node in `error` with the BMC's own words, and touches
nothing else. Its BMC call is asked again while the bare-metal agent is up
and does not answer; a task adopted from a scheduler that died asks it
again (the node keeps its state until the task lands it).
"""

import oslo_messaging as messaging
import sqlalchemy as sa

from arame.agents.bma import rpcapi as bma_rpcapi
from arame.common import states
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.scheduler.baremetal import claims
from arame.scheduler.flows import liveness
from arame.scheduler.flows.base import StepFailed, TaskFlow

# bma's typed errors (RemoteError.exc_type) a person should read plainly.
_REASONS = {
    "BMCAuthFailed": "BMC refused the credentials",
    "BMCUnreachable": "BMC did not answer",
}


def set_state(
    s, node_id: str, dst: str, *, src=None, reason: str | None = None, **values
) -> bool:
    """CAS the node to dst from any state the table allows (or src)."""
    N = models.BaremetalNode
    allowed = src if src is not None else states.NODE.sources(dst)
    rc = s.execute(
        sa.update(N)
        .where(N.id == node_id, N.provision_state.in_(allowed))
        .values(
            provision_state=dst,
            status_reason=reason and reason[:255],
            updated_at=models.utcnow(),
            **values,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    return rc == 1


def bmc_reason(exc: BaseException, fallback: str) -> str:
    """The node's status_reason for a failed BMC call."""
    cause = exc.__cause__ if isinstance(exc, StepFailed) else exc
    if isinstance(cause, messaging.RemoteError) and cause.exc_type in _REASONS:
        return f"{_REASONS[cause.exc_type]}: {cause.value}"[:255]
    return fallback[:255]


class NodeFlow(TaskFlow):
    """A node's admin task: one BMC call as a step, then the node's next
    provision state (states.NODE_ACTIONS)."""

    kind = "node"

    def __init__(self, ctxt, task_id: str, node_id: str, bma):
        super().__init__(ctxt, task_id, node_id)
        self.bma = bma
        self.node: models.BaremetalNode | None = None
        self.host: str | None = None

    def load(self, s) -> None:
        self.node = s.get(models.BaremetalNode, self.node_id)
        if self.node is not None:
            self.host = claims.bma_host(s, self.node)

    @property
    def node_id(self) -> str:
        return self.resource_id

    def error_reason(self, step, message: str) -> str:
        return message

    def mark_error(self, s, reason: str) -> None:
        set_state(s, self.node_id, "error", src=self.src, reason=reason)

    @property
    def src(self) -> tuple[str, ...]:
        return states.NODE_ACTIONS[self.action][0]

    def run(self) -> None:
        if not self.begin():
            return
        if self.node is None or self.node.provision_state not in self.src:
            self.fail(
                None,
                f"node is {getattr(self.node, 'provision_state', 'gone')}"
                f", not one of {', '.join(self.src)}",
                resource_error=False,
            )
            return
        if self.host is None:
            self.fail(
                self.action,
                "no bare-metal agent (arame-bma) is up",
                resource_error=False,
            )
            return
        try:
            values = self.work()
        except StepFailed as e:
            self.fail(e.step, e.message, reason=bmc_reason(e, e.message))
            return
        dst = states.NODE_ACTIONS[self.action][1]
        with db_engine.session() as s:
            if not set_state(s, self.node_id, dst, src=self.src, **values):
                self.end_task(
                    s,
                    "failed",
                    self.action,
                    "the node changed state meanwhile",
                )
                return
            self.finish(s)

    def work(self) -> dict:
        raise NotImplementedError

    def bmc_call(self, step: str, method: str) -> dict:
        """One BMC call as the step, asked again while bma is up."""
        with self.step(step, host=self.host):
            self.call_timeout(step)
            self.checkpoint()
            return self.ask(
                step,
                self.host,
                getattr(self.bma, method),
                self.node.bmc_message(),
                down=liveness.service_down(bma_rpcapi.BINARY, self.host),
            )


class ManageFlow(NodeFlow):
    action = "manage"

    def work(self) -> dict:
        result = self.bmc_call("validate", "validate")
        return {"power_state": result.get("power_state")}


class ProvideFlow(NodeFlow):
    """Off first: an available node that is on is news (power sync)."""

    action = "provide"

    def work(self) -> dict:
        result = self.bmc_call("power-off", "power_off")
        return {"power_state": result.get("power_state")}


FLOWS = {"manage": ManageFlow, "provide": ProvideFlow}
