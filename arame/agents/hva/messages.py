"""The messages the hypervisor agent takes (issue 13), in one place: the
flows that build them (scheduler/flows/build.py, root_volume.py,
volume_attach.py, evacuate.py) and the manager and drivers that read them
import these types. The wire stays plain dicts (oslo.messaging serialises
them as before); the types are for mypy and for the reader.

One name per field: a volume's CHAP credentials are `chap_user` and
`chap_secret`, as in the volumes table, sta's export messages and the
iPXE script. Until RPC API 1.5 hva's disk specs named them `username` and
`password`: accept_old_names reads those from an older scheduler, and
old_names writes them for an older hva.
"""

from collections.abc import Callable, Mapping
from typing import Any, Literal, NotRequired, TypedDict

#: the version whose disk specs carry chap_user / chap_secret
CHAP_VERSION = "1.5"

#: {old name: its one name now}, in an iSCSI disk spec. Goes, with
#: accept_old_names and old_names, in the release after the one that
#: brought 1.5: by then no scheduler or hva older than 1.5 runs (a rolling
#: upgrade crosses one release at a time).
OLD_NAMES = {"username": "chap_user", "password": "chap_secret"}


class IscsiDisk(TypedDict):
    """A volume of a storage node as hva plugs it: the instance's root
    disk (spawn's root_disk, "type": "iscsi") or a data volume
    (attach_volume's volume). The secret becomes a libvirt secret on the
    host, never part of the domain XML or a command line."""

    volume_id: str
    portal: str
    iqn: str
    lun: int
    chap_user: str
    chap_secret: str
    type: NotRequired[Literal["iscsi"]]


class ImageRef(TypedDict):
    """The instance's image; only "id" when its record is gone."""

    id: str
    format: NotRequired[str]
    sha256: NotRequired[str | None]
    size_bytes: NotRequired[int | None]


class PortNetwork(TypedDict):
    id: str
    segmentation: str
    segment_id: int | None
    mtu: int
    cidr: str
    gateway: str
    dns_domain: str


class SecurityGroup(TypedDict):
    id: str
    rules: list[dict[str, Any]]
    # Absent from an older scheduler's: the host then takes what it is
    # given, newer or not.
    revision: NotRequired[int | None]


class Port(TypedDict):
    """One NIC, with what its filter needs (common/secgroups_db.py
    port_specs_for_instance): the rules of its groups and the addresses
    of the members of every group those rules name."""

    network: PortNetwork
    ip: str
    mac: str
    hostname: str
    security_groups: list[SecurityGroup]
    group_members: dict[str, list[str]]


class InstanceSpec(TypedDict):
    """spawn's instance: all hva needs, since agents read no database
    (scheduler/flows/build.py instance_spec)."""

    id: str
    name: str
    hostname: str
    account_id: str
    unit_id: str | None
    vcpus: int
    memory_mb: int
    disk_gb: int
    image_id: str
    image: ImageRef
    user_data: str | None
    ha_enabled: bool
    ports: list[Port]
    #: None: a local disk made from the image
    root_disk: IscsiDisk | None
    public_keys: list[str]


def accept_old_names(disk: Mapping[str, Any]) -> dict[str, Any]:
    """The disk spec with every old field name replaced by its one name
    now (a new name present wins). For what an older scheduler sends."""
    out = {k: v for k, v in disk.items() if k not in OLD_NAMES}
    for old, new in OLD_NAMES.items():
        if out.get(new) is None and disk.get(old) is not None:
            out[new] = disk[old]
    return out


def old_names(disk: Mapping[str, Any]) -> dict[str, Any]:
    """The disk spec as an hva older than 1.5 reads it (sent while capped
    below 1.5)."""
    new_to_old = {new: old for old, new in OLD_NAMES.items()}
    return {new_to_old.get(k, k): v for k, v in disk.items()}


def instance_with(
    instance: Mapping[str, Any],
    rename: Callable[[Mapping[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """The instance with `rename` (accept_old_names or old_names) applied
    to its root disk, if it has one."""
    root = instance.get("root_disk")
    if not isinstance(root, Mapping):
        return dict(instance)
    return {**instance, "root_disk": rename(root)}
