"""The committed JSON Schemas are what the payload models generate, and
what the publisher builds validates against them."""

import json

import jsonschema
import pytest

from arame.notifications import payloads, publisher


def committed(name):
    return json.loads((payloads.SCHEMAS / f"{name}.json").read_text())


@pytest.mark.parametrize("name", sorted(payloads.MODELS))
def test_the_committed_schema_is_the_generated_one(name):
    assert (payloads.SCHEMAS / f"{name}.json").read_text() == (
        payloads.schema_text(name)
    ), "run: python -m arame.notifications.payloads"


def test_every_schema_file_has_a_model():
    assert {p.stem for p in payloads.SCHEMAS.glob("*.json")} == set(
        payloads.MODELS
    )


class Session:
    def __init__(self):
        self.info = {}


@pytest.mark.parametrize(
    "status, step, message",
    [("done", None, None), ("failed", "spawn", "no answer from h1")],
)
def test_what_the_publisher_builds_validates_against_the_schema(
    config, status, step, message
):
    config("enabled", True, group="notifications")
    s = Session()
    publisher.task_ended(
        s,
        task_id="task-1",
        resource_type="instance",
        resource_id="i-1",
        action="create",
        status=status,
        account_id="a-1",
        request_id="req-1",
        step=step,
        message=message,
    )
    [(priority, event, payload)] = s.info.pop(publisher._QUEUED)
    jsonschema.validate(payload, committed("task_end"))
    assert payload["version"] == "1.0"
    if status == "done":
        assert (priority, event) == ("info", "instance.create.end")
        assert payload["error"] is None
    else:
        assert (priority, event) == ("error", "instance.create.error")
        assert payload["error"] == {"step": step, "message": message}


def test_a_payload_missing_a_field_does_not_validate():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "1.0"}, committed("task_end"))


def test_event_types_name_the_resource_and_the_action():
    assert publisher.event_type("volume", "delete", "done") == (
        "volume.delete.end"
    )
    assert publisher.event_type("security group", "update", "failed") == (
        "security_group.update.error"
    )
