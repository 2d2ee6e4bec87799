"""Start, stop, reboot: one agent call each.

The API has already moved the instance to the action's transitional state
(409 otherwise); the flow calls the agent and lands the final state.
"""

from arame.agents.hva import rpcapi as hva_rpcapi
from arame.common import states
from arame.common.db import engine as db_engine
from arame.scheduler.flows.base import InstanceFlow, StepFailed

# action -> (agent method, power state after it); the states each action
# moves the instance through are in states.INSTANCE_TASKS.
ACTIONS = {
    "start": ("power_on", "running"),
    "stop": ("power_off", "shutdown"),
    "reboot": ("reboot", "running"),
}


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

    def run(self) -> None:
        if not self.begin():
            return
        method, power = ACTIONS[self.action]
        final = states.INSTANCE_TASKS[self.action].final
        inst = self.instance
        try:
            with self.step(method, host=inst.host):
                timeout = self.call_timeout(method)
                self.checkpoint()
                getattr(self.hva, method)(
                    self.ctxt, inst.host, inst.id, timeout=timeout
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
