"""VolumeManager.attach / detach: the action bodies the API expects."""

import pytest

from arame.sdk import ArameError
from tests.helpers.fakes import error

VID, IID = "vol-aaaaaaaa", "i-aaaaaaaa"
PATH = f"/v1/volumes/{VID}/actions"


def test_attach_and_detach_post_their_actions(client, api):
    api.add(
        "POST",
        PATH,
        (202, {"id": VID, "status": "attaching", "task_id": "t-aaaaaaaa"}),
        (202, {"id": VID, "status": "detaching", "task_id": "t-bbbbbbbb"}),
    )
    assert client.volumes.attach(VID, IID)["task_id"] == "t-aaaaaaaa"
    assert client.volumes.detach(VID)["task_id"] == "t-bbbbbbbb"
    assert api.bodies("POST", PATH) == [
        {"action": "attach", "instance_id": IID},
        {"action": "detach"},
    ]


def test_a_refusal_carries_the_state(client, api):
    api.add(
        "POST",
        PATH,
        (409, error("conflict", "volume is attached", {"status": "attached"})),
    )
    with pytest.raises(ArameError) as e:
        client.volumes.attach(VID, IID)
    assert (e.value.status_code, e.value.details) == (
        409,
        {"status": "attached"},
    )
