"""hva's remove_image (1.3): the manager checks the id, the fake driver has
nothing to remove, the libvirt driver empties its cache and store, and the
proxy asks at 1.3 (an older agent refuses it, never misreads it)."""

import pytest

from arame.agents.hva.drivers.fake import FakeDriver
from arame.agents.hva.manager import HypervisorManager, InvalidIdentifier
from tests.unit.agents.hva.drivers.libvirt.test_imagecache import put

IMG = "img-abcdefgh"
ABSENT = {
    "image_id": IMG,
    "cache": "absent",
    "in_use_by": [],
    "store": "absent",
}


class Notifier:
    def info(self, *a):
        pass


class SpyDriver(FakeDriver):
    def __init__(self, host):
        super().__init__(host)
        self.asked = []

    def remove_image(self, image_id):
        self.asked.append(image_id)
        return super().remove_image(image_id)


def test_the_same_message_twice_answers_the_same(parsed_conf):
    driver = SpyDriver("hv1")
    mgr = HypervisorManager("hv1", driver, Notifier())
    assert mgr.remove_image({}, IMG) == ABSENT
    assert mgr.remove_image({}, IMG) == ABSENT
    for bad in ("../etc", "i-abcdefgh", None, ["img-abcdefgh"]):
        with pytest.raises(InvalidIdentifier):
            mgr.remove_image({}, bad)
    assert driver.asked == [IMG, IMG]


class FakeDomain:
    def XMLDesc(self):
        return "<domain/>"


class FakeConn:
    def isAlive(self):
        return True

    def lookupByName(self, name):
        return FakeDomain()


def test_the_libvirt_driver_removes_cache_and_store(config, tmp_path):
    from arame.agents.hva.drivers.libvirt.driver import LibvirtDriver

    config("instances_path", str(tmp_path / "instances"), group="libvirt")
    config("image_store_path", str(tmp_path / "store"), group="libvirt")
    driver = LibvirtDriver("hv1")
    driver._conn = FakeConn()
    rec = put(tmp_path / "store", IMG, b"d" * 1024) | {"format": "raw"}
    driver.images.fetch(rec)
    (tmp_path / "instances" / "i-abcdefgh").mkdir()  # a guest not using it
    assert driver.remove_image(IMG) == {
        **ABSENT,
        "cache": "removed",
        "store": "removed",
    }
    assert driver.remove_image(IMG) == ABSENT
    assert driver.images.images() == set()


class RecordingClient:
    def __init__(self):
        self.prepared, self.called = [], []

    def prepare(self, **kw):
        self.prepared.append(kw)
        return self

    def can_send_version(self, version):
        return True

    def call(self, ctxt, method, **kw):
        self.called.append((method, kw))
        return ABSENT


def test_the_proxy_asks_at_version_1_3():
    from arame.agents.hva.rpcapi import HypervisorAPI

    api = object.__new__(HypervisorAPI)
    api.client = RecordingClient()
    assert api.remove_image({}, "hv1", IMG, timeout=10) == ABSENT
    [prep] = api.client.prepared
    assert (prep["server"], prep["version"]) == ("hv1", "1.3")
    assert api.client.called == [("remove_image", {"image_id": IMG})]
    cap = tuple(int(x) for x in HypervisorAPI.VERSION_CAP.split("."))
    assert cap >= (1, 3)
