"""What the storage agent refuses, and why, as typed errors.

They derive from arame.common.exceptions so a caller maps them the usual
way (NotFound 404, Conflict 409, Invalid 422); over RPC they arrive as
oslo.messaging RemoteError whose `exc_type` is the class name below, and
the message names the resources involved.
"""

from arame.common import exceptions


class InvalidRequest(exceptions.Invalid):
    """An identifier, size, address or credential is malformed."""

    code = "sta_invalid_request"


class VolumeNotFound(exceptions.NotFound):
    code = "volume_not_found"


class SnapshotNotFound(exceptions.NotFound):
    code = "snapshot_not_found"


class ImageNotFound(exceptions.NotFound):
    """No such image on this node, or its import never finished."""

    code = "image_not_found"


class VolumeTooSmall(exceptions.Invalid):
    """The image (or snapshot) is larger than the volume asked for."""

    code = "volume_too_small"


class VolumeExists(exceptions.Conflict):
    """A volume of this id exists with another size or origin."""

    code = "volume_exists"


class VolumeHasSnapshots(exceptions.Conflict):
    """Delete the volume's snapshots first (details: snapshots)."""

    code = "volume_has_snapshots"


class SnapshotExists(exceptions.Conflict):
    """A snapshot of this id exists on another volume."""

    code = "snapshot_exists"


class SnapshotHasDependents(exceptions.Conflict):
    """Volumes made from this snapshot still exist (details: volumes)."""

    code = "snapshot_has_dependents"


class ImageDataInvalid(exceptions.Invalid):
    """The image bytes do not match the announced size or sha256."""

    code = "image_data_invalid"


class ImageExists(exceptions.Conflict):
    """An image of this id exists with other bytes."""

    code = "image_exists"


class ExportBusy(exceptions.Conflict):
    """An initiator is still logged in to the volume's target."""

    code = "export_busy"


class ExportConflict(exceptions.Conflict):
    """The CHAP user is bound to another volume's target."""

    code = "export_conflict"


class StorageError(exceptions.ArameError):
    """A zfs or tgtadm command failed in a way nobody asked for."""

    code = "storage_error"


#: refusals, as opposed to failures: the RPC endpoint hands them back to
#: the caller without a traceback in the agent's log
EXPECTED = (
    InvalidRequest,
    VolumeNotFound,
    SnapshotNotFound,
    ImageNotFound,
    VolumeTooSmall,
    VolumeExists,
    VolumeHasSnapshots,
    SnapshotExists,
    SnapshotHasDependents,
    ImageDataInvalid,
    ImageExists,
    ExportBusy,
    ExportConflict,
)
