"""Client proxy of the storage target agent: ZFS volumes, snapshots, clones,
iSCSI export (topic `sta`, server = node name).

Every method is a call with a deadline; refusals arrive as RemoteError
whose exc_type is a class of arame.agents.sta.errors (e.g.
SnapshotHasDependents, with the volumes named in the message).
"""

from typing import Any

from arame.agents.base import PingAPI
from arame.agents.sta import messages
from arame.common import rpc
from arame.common.context import RpcContext
from arame.common.rpc import version_cap

BINARY = "arame-sta"
TOPIC = "sta"
#: the RPC namespace of the image data endpoint's one method
DATA_NAMESPACE = "sta_data"
#: sta exports every volume as this LUN of a target of its own
EXPORT_LUN = 1


class STAAPI(PingAPI):
    """1.0 - ping
    1.1 - create_volume, delete_volume, create_snapshot, delete_snapshot,
          export_volume, unexport_volume, rebuild_exports, import_image,
          delete_image, capacity, list_resources
    1.2 - fence_initiator
    1.3 - export_volume and rebuild_exports' entries name the CHAP secret
          chap_secret (was chap_password; capped below 1.3 the old name
          is sent at 1.1, see messages.py)"""

    VERSION_CAP = "1.3"
    TOPIC = TOPIC

    def _call(
        self,
        ctxt: RpcContext,
        node: str,
        method: str,
        timeout: float,
        version: str = "1.1",
        **kw: Any,
    ) -> Any:
        # Capped below `version` (a node not yet upgraded): VersionCapped,
        # nothing sent; no message has an older form.
        self._require(version, method)
        return self.client.prepare(
            server=node, version=version, **rpc.deadline(timeout)
        ).call(ctxt, method, **kw)

    def _chap_version(self) -> str | None:
        """1.3 where the nodes take chap_secret; None: capped below, send
        the old name at 1.1."""
        if version_cap.allows(self.client, messages.CHAP_SECRET_VERSION):
            return messages.CHAP_SECRET_VERSION
        return None

    def create_volume(
        self,
        ctxt: RpcContext,
        node: str,
        volume: messages.VolumeSpec,
        timeout: float,
    ) -> dict:
        """volume: {"id", "size_gb", "image_id"? | "snapshot_id"?}"""
        return self._call(ctxt, node, "create_volume", timeout, volume=volume)

    def delete_volume(
        self, ctxt: RpcContext, node: str, volume_id: str, timeout: float
    ) -> dict:
        return self._call(
            ctxt, node, "delete_volume", timeout, volume_id=volume_id
        )

    def create_snapshot(
        self,
        ctxt: RpcContext,
        node: str,
        snapshot: messages.SnapshotSpec,
        timeout: float,
    ) -> dict:
        """snapshot: {"id", "volume_id"}"""
        return self._call(
            ctxt, node, "create_snapshot", timeout, snapshot=snapshot
        )

    def delete_snapshot(
        self, ctxt: RpcContext, node: str, snapshot_id: str, timeout: float
    ) -> dict:
        return self._call(
            ctxt, node, "delete_snapshot", timeout, snapshot_id=snapshot_id
        )

    def export_volume(
        self,
        ctxt: RpcContext,
        node: str,
        volume_id: str,
        initiator_address: str,
        chap_user: str,
        chap_secret: str,
        timeout: float,
    ) -> messages.Connection:
        """{"iqn", "portal", "lun"}"""
        kw: dict[str, str] = {
            "volume_id": volume_id,
            "initiator_address": initiator_address,
            "chap_user": chap_user,
            "chap_secret": chap_secret,
        }
        version = self._chap_version()
        if version is None:
            return self._call(
                ctxt, node, "export_volume", timeout, **messages.old_names(kw)
            )
        return self._call(
            ctxt, node, "export_volume", timeout, version=version, **kw
        )

    def unexport_volume(
        self,
        ctxt: RpcContext,
        node: str,
        volume_id: str,
        timeout: float,
        force: bool = False,
    ) -> dict:
        return self._call(
            ctxt,
            node,
            "unexport_volume",
            timeout,
            volume_id=volume_id,
            force=force,
        )

    def rebuild_exports(
        self,
        ctxt: RpcContext,
        node: str,
        expected: list[messages.Export],
        timeout: float,
    ) -> dict:
        version = self._chap_version()
        if version is None:
            old = [messages.old_names(e) for e in expected]
            return self._call(
                ctxt, node, "rebuild_exports", timeout, expected=old
            )
        return self._call(
            ctxt,
            node,
            "rebuild_exports",
            timeout,
            version=version,
            expected=expected,
        )

    def import_image(
        self,
        ctxt: RpcContext,
        node: str,
        image_id: str,
        source_path: str,
        sha256: str,
        size: int,
        timeout: float,
    ) -> dict:
        return self._call(
            ctxt,
            node,
            "import_image",
            timeout,
            image_id=image_id,
            source_path=source_path,
            sha256=sha256,
            size=size,
        )

    def delete_image(
        self, ctxt: RpcContext, node: str, image_id: str, timeout: float
    ) -> dict:
        return self._call(
            ctxt, node, "delete_image", timeout, image_id=image_id
        )

    def capacity(self, ctxt: RpcContext, node: str, timeout: float) -> dict:
        return self._call(ctxt, node, "capacity", timeout)

    def list_resources(
        self, ctxt: RpcContext, node: str, timeout: float
    ) -> dict:
        return self._call(ctxt, node, "list_resources", timeout)

    def fence_initiator(
        self,
        ctxt: RpcContext,
        node: str,
        initiator_address: str,
        timeout: float,
    ) -> dict:
        """Remove the address from every export's ACL and close its
        sessions; idempotent. {"revoked": [volume ids], "sessions_closed"}."""
        return self._call(
            ctxt,
            node,
            "fence_initiator",
            timeout,
            version="1.2",
            initiator_address=initiator_address,
        )


class DataEndpointAPI:
    """Client proxy of the image data endpoint's RPC side (topic `sta`,
    namespace `sta_data`, server = node name): where a node takes image
    bytes over HTTP (data_server.py).
    1.0 - data_endpoint

    Its namespace is versioned apart and has one version: no cap to
    choose ([upgrade_levels] sta caps STAAPI)."""

    VERSION_CAP = "1.0"

    def __init__(self, topic: str = TOPIC) -> None:
        self.client = rpc.get_client(topic, version_cap=self.VERSION_CAP)

    def data_endpoint(
        self, ctxt: RpcContext, node: str, timeout: float = 10
    ) -> dict:
        """{"url"}: the node's data endpoint."""
        return self.client.prepare(
            server=node,
            namespace=DATA_NAMESPACE,
            version="1.0",
            timeout=timeout,
        ).call(ctxt, "data_endpoint")
