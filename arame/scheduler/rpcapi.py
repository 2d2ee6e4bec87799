"""Client proxy of arame-scheduler. Every method is a cast: the API answers
202 at once and the task records what happens."""

from arame.common import rpc

TOPIC = "scheduler"


class SchedulerAPI:
    """1.0 - build_instance, delete_instance, instance_action,
    refresh_security_group"""

    VERSION_CAP = "1.0"

    def __init__(self):
        self.client = rpc.get_client(TOPIC, version_cap=self.VERSION_CAP)

    def build_instance(self, ctxt, task_id: str, instance_id: str) -> None:
        self.client.cast(ctxt, "build_instance", task_id=task_id,
                         instance_id=instance_id)

    def delete_instance(self, ctxt, task_id: str, instance_id: str) -> None:
        self.client.cast(ctxt, "delete_instance", task_id=task_id,
                         instance_id=instance_id)

    def instance_action(self, ctxt, task_id: str, instance_id: str,
                        action: str) -> None:
        self.client.cast(ctxt, "instance_action", task_id=task_id,
                         instance_id=instance_id, action=action)

    def refresh_security_group(self, ctxt, task_id: str, group_id: str) -> None:
        """Apply the group's current rules on every host with a member."""
        self.client.cast(ctxt, "refresh_security_group", task_id=task_id,
                         group_id=group_id)
