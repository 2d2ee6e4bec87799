"""Client proxy of arame-scheduler. Every method is a cast: the API answers
202 at once and the task records what happens."""

from typing import Any

from arame.common import rpc
from arame.common.context import RpcContext
from arame.common.rpc import version_cap

TOPIC = "scheduler"


class SchedulerAPI:
    """1.0 - build_instance, delete_instance, instance_action,
    refresh_security_group
    1.1 - create_volume, delete_volume, create_snapshot, delete_snapshot
    1.2 - node_action
    1.3 - attach_volume, detach_volume
    1.4 - delete_image, update_instance_security_groups
    1.5 - sync_router, delete_router
    1.6 - evacuate_instance
    1.7 - build_instance, delete_instance, instance_action take the
          instance's provider (the scheduler then picks the flow without
          reading the instance)

    Capped below a method's version (a scheduler not yet upgraded), the
    method raises VersionCapped (an UnsupportedVersion naming the
    version) and sends nothing: no cast has an older form, and the API
    ends the request's task with that reason."""

    VERSION_CAP = "1.7"  # the newest version the class speaks

    def __init__(self) -> None:
        # Capped by [upgrade_levels] scheduler: the oldest scheduler
        # running during a rolling upgrade.
        self.client = rpc.CappedClient("scheduler", TOPIC, self.VERSION_CAP)

    def _cast(
        self, ctxt: RpcContext, version: str, method: str, **kw: Any
    ) -> None:
        version_cap.require(self.client, "scheduler", version, method)
        self.client.prepare(version=version).cast(ctxt, method, **kw)

    def _instance_cast(
        self, ctxt: RpcContext, method: str, provider: str | None, **kw: Any
    ) -> None:
        # Saying the provider spares the scheduler a transaction per
        # task; a scheduler older than 1.7 reads it itself.
        if provider is not None and version_cap.allows(self.client, "1.7"):
            self.client.prepare(version="1.7").cast(
                ctxt, method, provider=provider, **kw
            )
        else:
            self.client.cast(ctxt, method, **kw)

    def build_instance(
        self,
        ctxt: RpcContext,
        task_id: str,
        instance_id: str,
        provider: str | None = None,
    ) -> None:
        self._instance_cast(
            ctxt,
            "build_instance",
            provider,
            task_id=task_id,
            instance_id=instance_id,
        )

    def delete_instance(
        self,
        ctxt: RpcContext,
        task_id: str,
        instance_id: str,
        provider: str | None = None,
    ) -> None:
        self._instance_cast(
            ctxt,
            "delete_instance",
            provider,
            task_id=task_id,
            instance_id=instance_id,
        )

    def instance_action(
        self,
        ctxt: RpcContext,
        task_id: str,
        instance_id: str,
        action: str,
        provider: str | None = None,
    ) -> None:
        self._instance_cast(
            ctxt,
            "instance_action",
            provider,
            task_id=task_id,
            instance_id=instance_id,
            action=action,
        )

    def refresh_security_group(
        self, ctxt: RpcContext, task_id: str, group_id: str
    ) -> None:
        """Apply the group's current rules on every host with a member."""
        self.client.cast(
            ctxt, "refresh_security_group", task_id=task_id, group_id=group_id
        )

    def _cast_1_1(self, ctxt: RpcContext, method: str, **kw: Any) -> None:
        self._cast(ctxt, "1.1", method, **kw)

    def create_volume(
        self, ctxt: RpcContext, task_id: str, volume_id: str
    ) -> None:
        """Place the volume on a storage node and create it there."""
        self._cast_1_1(
            ctxt, "create_volume", task_id=task_id, volume_id=volume_id
        )

    def delete_volume(
        self, ctxt: RpcContext, task_id: str, volume_id: str
    ) -> None:
        self._cast_1_1(
            ctxt, "delete_volume", task_id=task_id, volume_id=volume_id
        )

    def create_snapshot(
        self, ctxt: RpcContext, task_id: str, snapshot_id: str
    ) -> None:
        self._cast_1_1(
            ctxt, "create_snapshot", task_id=task_id, snapshot_id=snapshot_id
        )

    def delete_snapshot(
        self, ctxt: RpcContext, task_id: str, snapshot_id: str
    ) -> None:
        self._cast_1_1(
            ctxt, "delete_snapshot", task_id=task_id, snapshot_id=snapshot_id
        )

    def node_action(
        self, ctxt: RpcContext, task_id: str, node_id: str, action: str
    ) -> None:
        """A bare-metal node's admin task: "manage" or "provide"."""
        self._cast(
            ctxt,
            "1.2",
            "node_action",
            task_id=task_id,
            node_id=node_id,
            action=action,
        )

    def attach_volume(
        self, ctxt: RpcContext, task_id: str, volume_id: str
    ) -> None:
        """Hot-plug a data volume into the instance its record names."""
        self._cast(
            ctxt, "1.3", "attach_volume", task_id=task_id, volume_id=volume_id
        )

    def detach_volume(
        self, ctxt: RpcContext, task_id: str, volume_id: str
    ) -> None:
        self._cast(
            ctxt, "1.3", "detach_volume", task_id=task_id, volume_id=volume_id
        )

    def delete_image(
        self, ctxt: RpcContext, task_id: str, image_id: str
    ) -> None:
        """Remove a `deleting` image's bytes from every storage node and
        hypervisor, then land it `deleted`."""
        self._cast(
            ctxt, "1.4", "delete_image", task_id=task_id, image_id=image_id
        )

    def update_instance_security_groups(
        self,
        ctxt: RpcContext,
        task_id: str,
        instance_id: str,
        previous: list[str],
    ) -> None:
        """Apply an instance's new groups on its host; `previous`, the
        groups it left, get their new members on every host too."""
        self._cast(
            ctxt,
            "1.4",
            "update_instance_security_groups",
            task_id=task_id,
            instance_id=instance_id,
            previous=previous,
        )

    def sync_router(
        self, ctxt: RpcContext, task_id: str, router_id: str
    ) -> None:
        """Apply the router's full state from the records on its l3 host
        (choosing one the first time)."""
        self._cast(
            ctxt, "1.5", "sync_router", task_id=task_id, router_id=router_id
        )

    def delete_router(
        self, ctxt: RpcContext, task_id: str, router_id: str
    ) -> None:
        """Remove the router from its host, then its records."""
        self._cast(
            ctxt, "1.5", "delete_router", task_id=task_id, router_id=router_id
        )

    def evacuate_instance(
        self, ctxt: RpcContext, task_id: str, instance_id: str
    ) -> None:
        """Rebuild an instance of a down, fenced host on another host (its
        task and records made by common/evacuation.begin)."""
        self._cast(
            ctxt,
            "1.6",
            "evacuate_instance",
            task_id=task_id,
            instance_id=instance_id,
        )
