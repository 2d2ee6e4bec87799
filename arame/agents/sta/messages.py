"""The messages the storage target agent takes (issue 13), in one place:
the flows that build them and the manager that reads them import these
types. The wire stays plain dicts and keyword arguments (oslo.messaging
serialises them as before); the types are for mypy and for the reader.

One name per field: an export's CHAP credentials are `chap_user` and
`chap_secret` everywhere (the volumes table's columns, these messages,
hva's disk specs, the iPXE script). Until RPC API 1.3 the secret
travelled as `chap_password`: accept_old_names reads it from an older
scheduler or collector, and old_names writes it for an older sta.
"""

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

#: the version whose export messages carry `chap_secret`
CHAP_SECRET_VERSION = "1.3"

#: {old name: its one name now}. Goes, with accept_old_names and
#: old_names, in the release after the one that brought 1.3: by then no
#: scheduler, collector or sta older than 1.3 runs (a rolling upgrade
#: crosses one release at a time).
OLD_NAMES = {"chap_password": "chap_secret"}


class VolumeSpec(TypedDict):
    """create_volume's volume: empty, or a clone of an image or of a
    snapshot (not both)."""

    id: str
    size_gb: int
    image_id: NotRequired[str | None]
    snapshot_id: NotRequired[str | None]


class SnapshotSpec(TypedDict):
    """create_snapshot's snapshot."""

    id: str
    volume_id: str


class Export(TypedDict):
    """An export as rebuild_exports takes it (a list of them: the
    collector's expected_exports answer): the volume, the one initiator
    its target admits, and the CHAP credentials it must present."""

    volume_id: str
    initiator_address: str
    chap_user: str
    chap_secret: str
    #: the target's name as recorded (informative: sta names its targets)
    iqn: NotRequired[str]


class Connection(TypedDict):
    """export_volume's answer: what the initiator connects to."""

    iqn: str
    portal: str
    lun: int


def accept_old_names(message: Mapping[str, Any]) -> dict[str, Any]:
    """The message with every old field name replaced by its one name now
    (a new name present wins over an old one). For what an older
    scheduler (export_volume) or collector (expected_exports) sends."""
    out = {k: v for k, v in message.items() if k not in OLD_NAMES}
    for old, new in OLD_NAMES.items():
        if out.get(new) is None and message.get(old) is not None:
            out[new] = message[old]
    return out


def old_names(message: Mapping[str, Any]) -> dict[str, Any]:
    """The message as an sta older than 1.3 reads it (the client side of
    the same compatibility: sent while capped below 1.3)."""
    new_to_old = {new: old for old, new in OLD_NAMES.items()}
    return {new_to_old.get(k, k): v for k, v in message.items()}


def with_old_names(message: Mapping[str, Any]) -> dict[str, Any]:
    """The message under both names, for an answer whose asker's version
    is unknown (the collector's expected_exports: an older sta reads
    chap_password, a newer one chap_secret)."""
    return {**old_names(message), **message}
