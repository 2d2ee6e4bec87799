"""hva's typed messages (issue 13): an iSCSI disk's CHAP credentials are
chap_user / chap_secret from the flow that builds the disk to the libvirt
disk source; the names before RPC API 1.5 (username / password) are still
read from an older scheduler, and still sent to an older hva.

Fully annotated: mypy checks this module (pyproject.toml), so the
messages the flows build are checked against what the proxy takes."""

from typing import Any

import pytest

from arame.agents.hva import messages
from arame.agents.hva.drivers.fake import FakeDriver
from arame.agents.hva.drivers.libvirt import config as xmlconf
from arame.agents.hva.drivers.libvirt import storage
from arame.agents.hva.manager import HypervisorManager
from arame.agents.hva.rpcapi import HypervisorAPI
from arame.agents.sta import messages as sta_messages
from arame.common.db import models
from arame.scheduler.flows import root_volume, volume_attach
from tests.helpers.rpc_recorder import Recorder, recorded  # noqa: F401

IID, VID = "i-abcd1234", "vol-abcd1235"
USER, SECRET = "arame-abcd1235", "0123456789abcdef01234567"
EXPORT: sta_messages.Connection = {
    "iqn": f"iqn.2025-01.org.arame:{VID}",
    "portal": "10.0.0.9:3260",
    "lun": 1,
}
OLD = {"username": USER, "password": SECRET}


def _keys(td: Any) -> set[str]:
    return set(td.__required_keys__) | set(td.__optional_keys__)


def _volume() -> models.Volume:
    return models.Volume(id=VID, chap_user=USER, chap_secret=SECRET)


def test_the_flows_build_the_typed_disks() -> None:
    data: messages.IscsiDisk = volume_attach.connection(
        _volume(), EXPORT, USER, SECRET
    )
    root: messages.IscsiDisk = root_volume.disk_spec(_volume(), EXPORT)
    for disk in (data, root):
        assert set(disk) <= _keys(messages.IscsiDisk)
        assert set(disk) >= set(messages.IscsiDisk.__required_keys__)
        assert (disk["chap_user"], disk["chap_secret"]) == (USER, SECRET)
    assert root.get("type") == "iscsi"


def test_accept_old_names_prefers_the_new_one() -> None:
    old = {"volume_id": VID, **OLD}
    assert messages.accept_old_names(old) == {
        "volume_id": VID,
        "chap_user": USER,
        "chap_secret": SECRET,
    }
    both = {**old, "chap_user": "new-user", "chap_secret": "new-secret"}
    assert messages.accept_old_names(both) == {
        "volume_id": VID,
        "chap_user": "new-user",
        "chap_secret": "new-secret",
    }
    disk = volume_attach.connection(_volume(), EXPORT, USER, SECRET)
    assert messages.accept_old_names(messages.old_names(disk)) == disk


def test_instance_with_renames_only_the_root_disk() -> None:
    root = root_volume.disk_spec(_volume(), EXPORT)
    inst = {"id": IID, "root_disk": root}
    old = messages.instance_with(inst, messages.old_names)
    assert old["root_disk"]["password"] == SECRET
    assert "chap_secret" not in old["root_disk"]
    assert messages.instance_with(old, messages.accept_old_names) == inst
    # no root disk: a local one, nothing to rename
    assert messages.instance_with(
        {"id": IID, "root_disk": None}, messages.old_names
    ) == {
        "id": IID,
        "root_disk": None,
    }


class SpyDriver(FakeDriver):
    """The fake driver, keeping what the manager handed it."""

    def __init__(self, host: str) -> None:
        super().__init__(host)
        self.got: list[Any] = []

    def spawn(self, instance: messages.InstanceSpec) -> str:
        self.got.append(instance)
        return super().spawn(instance)

    def attach_volume(
        self, instance_id: str, volume: messages.IscsiDisk
    ) -> dict:
        self.got.append(volume)
        return super().attach_volume(instance_id, volume)


class Notifier:
    def info(self, *a: Any) -> None:
        pass


@pytest.fixture
def spy() -> SpyDriver:
    return SpyDriver("hv1")


@pytest.mark.parametrize("old", [False, True], ids=["1.5", "before-1.5"])
def test_the_manager_hands_the_driver_the_one_names(
    spy: SpyDriver, old: bool
) -> None:
    mgr = HypervisorManager("hv1", spy, Notifier())
    # Any: what comes off the wire, typed or (before 1.5) not
    root: Any = root_volume.disk_spec(_volume(), EXPORT)
    data: Any = volume_attach.connection(_volume(), EXPORT, USER, SECRET)
    if old:
        root, data = messages.old_names(root), messages.old_names(data)
    inst: Any = {"id": IID, "name": "w", "hostname": "w", "root_disk": root}
    mgr.spawn({}, inst)
    mgr.attach_volume({}, IID, data)
    spawned, attached = spy.got
    for disk in (spawned["root_disk"], attached):
        assert (disk["chap_user"], disk["chap_secret"]) == (USER, SECRET)
        assert not {"username", "password"} & set(disk)
    # ... which libvirt's disk source takes (no secret in the XML)
    xml = xmlconf.disk_xml(storage.iscsi_volume(attached, "uuid-1", "vdb"))
    assert f"username='{USER}'" in xml or f'username="{USER}"' in xml
    assert SECRET not in xml


@pytest.mark.parametrize(
    "cap,spawn_at,attach_at,user,secret",
    [
        ("1.5", "1.5", "1.5", "chap_user", "chap_secret"),
        ("1.4", "1.0", "1.1", "username", "password"),
    ],
)
def test_the_client_names_the_credentials_as_the_host_reads_them(
    recorded: list[Recorder],
    config: Any,
    cap: str,
    spawn_at: str,
    attach_at: str,
    user: str,
    secret: str,
) -> None:
    config("hva", cap, group="upgrade_levels")
    api = HypervisorAPI()
    root = root_volume.disk_spec(_volume(), EXPORT)
    inst: Any = {"id": IID, "root_disk": root}
    api.spawn({}, "hv1", inst, timeout=5)
    data = volume_attach.connection(_volume(), EXPORT, USER, SECRET)
    api.attach_volume({}, "hv1", IID, data, timeout=5)
    (v1, m1, kw1), (v2, m2, kw2) = recorded[-1].sent
    assert (v1, m1, v2, m2) == (spawn_at, "spawn", attach_at, "attach_volume")
    for disk in (kw1["instance"]["root_disk"], kw2["volume"]):
        assert (disk[user], disk[secret]) == (USER, SECRET)
        assert (
            len(
                {"username", "password", "chap_user", "chap_secret"}
                & set(disk)
            )
            == 2
        )
