"""Start, stop, reboot: one agent call each.

The API has already moved the instance to the action's transitional state
(409 otherwise); the flow calls the agent and lands the final state.
"""

from arame.agents.hva import rpcapi as hva_rpcapi
from arame.common import states
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.scheduler.flows import liveness
from arame.scheduler.flows.base import StepFailed
from arame.scheduler.flows.row_flow import InstanceFlow

# action -> (agent method, power state after it); the states each action
# moves the instance through are in states.INSTANCE_TASKS.
ACTIONS = {
    "start": ("power_on", "running"),
    "stop": ("power_off", "shutdown"),
    "reboot": ("reboot", "running"),
}


def step_time(method: str, baremetal: bool = False) -> float:
    """What a call may legitimately take: a stop (and a reboot) waits for
    the guest to power off before it forces it ([libvirt]
    shutdown_timeout; a bare-metal node: [bma] soft_power_off_timeout)."""
    base = CONF.scheduler.agent_call_timeout
    if method in ("power_off", "reboot"):
        grace = (
            CONF.bma.soft_power_off_timeout
            if baremetal
            else CONF.libvirt.shutdown_timeout
        )
        return base + grace
    return base


class ActionFlow(InstanceFlow):
    def __init__(
        self,
        ctxt,
        task_id,
        instance_id,
        action: str,
        hva: hva_rpcapi.HypervisorAPI,
    ):
        super().__init__(ctxt, task_id, instance_id)
        self.action = action
        self.hva = hva

    @property
    def baremetal(self) -> bool:
        return not isinstance(self.hva, hva_rpcapi.HypervisorAPI)

    def host_down(self, host: str):
        # A bare-metal node's agent (NodePower) knows its own liveness.
        if self.baremetal:
            return getattr(self.hva, "host_down", lambda _h: None)(host)
        return liveness.hypervisor_down(host)

    def run(self) -> None:
        if not self.begin():
            return
        method, power = ACTIONS[self.action]
        final = states.INSTANCE_TASKS[self.action].final
        inst = self.instance
        try:
            with self.step(method, host=inst.host):
                self.checkpoint()
                self.ask(
                    method,
                    inst.host,
                    getattr(self.hva, method),
                    inst.id,
                    want=step_time(method, self.baremetal),
                    down=self.host_down(inst.host),
                )
        except StepFailed as e:
            self.fail(e.step, e.message)
            return
        with db_engine.session() as s:
            if self.transition(
                s, final, src=self.own_states, power_state=power
            ):
                self.finish(s)
            else:
                self.end_task(
                    s, "failed", None, "cancelled: instance was deleted"
                )
