"""attach_volume / detach_volume on the hypervisor agent's endpoint over
the fake driver: ids checked before the driver, idempotent answers."""

import pytest

from arame.agents.hva.drivers.base import InstanceNotFound
from arame.agents.hva.drivers.fake import FakeDriver
from arame.agents.hva.manager import HypervisorManager, InvalidIdentifier

IID, VID = "i-abcd1234", "vol-abcd1235"


class Notifier:
    def info(self, *a):
        pass


@pytest.fixture
def mgr():
    m = HypervisorManager("hv1", FakeDriver("hv1"), Notifier())
    m.spawn({}, {"id": IID, "name": "web", "hostname": "web"})
    return m


def test_attach_answers_the_device_and_the_same_again(mgr):
    assert mgr.attach_volume({}, IID, {"volume_id": VID}) == {"device": "vdc"}
    assert mgr.attach_volume({}, IID, {"volume_id": VID}) == {"device": "vdc"}
    assert mgr.attach_volume({}, IID, {"volume_id": "vol-abcd1236"}) == {
        "device": "vdd"
    }


def test_detach_twice_is_fine_and_frees_the_name(mgr):
    mgr.attach_volume({}, IID, {"volume_id": VID})
    assert mgr.detach_volume({}, IID, VID) == {}
    assert mgr.detach_volume({}, IID, VID) == {}
    assert mgr.driver.volumes(IID) == {}
    # A guest that is gone has nothing attached either.
    assert mgr.detach_volume({}, "i-zzzz9999", VID) == {}


def test_attach_to_a_guest_not_here_names_the_host(mgr):
    with pytest.raises(InstanceNotFound, match="hv1"):
        mgr.attach_volume({}, "i-zzzz9999", {"volume_id": VID})


@pytest.mark.parametrize(
    "iid, volume",
    [
        ("../x", {"volume_id": VID}),
        (IID, {"volume_id": "../../etc"}),
        (IID, {"volume_id": None}),
        (IID, "not-a-mapping"),
    ],
)
def test_bad_ids_never_reach_the_driver(mgr, iid, volume):
    with pytest.raises(InvalidIdentifier):
        mgr.attach_volume({}, iid, volume)
    with pytest.raises(InvalidIdentifier):
        mgr.detach_volume(
            {},
            iid,
            volume.get("volume_id") if isinstance(volume, dict) else volume,
        )
    assert mgr.driver.volumes(IID) == {}
