"""Start, stop, reboot: one agent call each.

The API has already moved the instance to the action's transitional state
(409 otherwise); the flow calls the agent and lands the final state.
"""

from arame.agents.hva import rpcapi as hva_rpcapi
from arame.common import states
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.scheduler.flows import liveness
from arame.scheduler.flows.base import InstanceFlow, StepFailed

# action -> (agent method, power state after it); the states each action
# moves the instance through are in states.INSTANCE_TASKS.
ACTIONS = {
    "start": ("power_on", "running"),
    "stop": ("power_off", "shutdown"),
    "reboot": ("reboot", "running"),
}


def step_time(method: str) -> float:
    """What a call may legitimately take: a stop (and a reboot) waits up
    to [libvirt] shutdown_timeout for the guest before it forces it."""
    base = CONF.scheduler.agent_call_timeout
    if method in ("power_off", "reboot"):
        return base + CONF.libvirt.shutdown_timeout
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

    def host_down(self, host: str):
        # Bare-metal nodes (NodePower) have no hypervisor row: a BMC that
        # does not answer is asked again until the deadline.
        if isinstance(self.hva, hva_rpcapi.HypervisorAPI):
            return liveness.hypervisor_down(host)
        return None

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
                    want=step_time(method),
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
