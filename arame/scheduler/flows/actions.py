"""Start, stop, reboot: one agent call each.

The API has already moved the instance to the action's transitional state
(409 otherwise); the flow calls the agent and lands the final state.
"""

from arame.agents.hva import rpcapi as hva_rpcapi
from arame.common import tasks
from arame.common.db import engine as db_engine
from arame.scheduler.flows.base import InstanceFlow, StepFailed

# action -> (transitional state, agent method, final state, power state)
ACTIONS = {
    "start": ("starting", "power_on", "running", "running"),
    "stop": ("stopping", "power_off", "stopped", "shutdown"),
    "reboot": ("rebooting", "reboot", "running", "running"),
}


class ActionFlow(InstanceFlow):
    def __init__(self, ctxt, task_id, instance_id, action: str,
                 hva: hva_rpcapi.HypervisorAPI):
        super().__init__(ctxt, task_id, instance_id)
        self.action = action
        self.own_states = (ACTIONS[action][0],)
        self.hva = hva

    def run(self) -> None:
        if not self.begin():
            return
        busy, method, final, power = ACTIONS[self.action]
        inst = self.instance
        try:
            with self.step(method, host=inst.host):
                timeout = self.call_timeout(method)
                self.checkpoint()
                getattr(self.hva, method)(self.ctxt, inst.host, inst.id,
                                          timeout=timeout)
        except StepFailed as e:
            self.fail(e.step, e.message)
            return
        with db_engine.session() as s:
            if self.transition(s, final, src=(busy,), power_state=power):
                self.finish(s)
            else:
                self.flush(s)
                tasks.fail(s, self.task_id, None,
                           "cancelled: instance was deleted")
