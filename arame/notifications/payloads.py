"""The payloads of the public notifications, one pydantic model each.

Their JSON Schemas (schemas/<name>.json, written by `python -m
arame.notifications.payloads`, checked for drift by the unit tests) are the
contract. Every payload carries `version` "MAJOR.MINOR": a minor
bump only adds optional fields, a major bump is a new schema a consumer
must opt into.
"""

import datetime as dt
import json
import pathlib
from typing import Literal

import pydantic

SCHEMAS = pathlib.Path(__file__).parent / "schemas"


class TaskError(pydantic.BaseModel):
    step: str | None = pydantic.Field(
        description="The step the task failed at (null: before any step)."
    )
    message: str = pydantic.Field(description="Why, as the task records it.")


class Resource(pydantic.BaseModel):
    type: str = pydantic.Field(
        description="instance, volume, snapshot, node or security_group."
    )
    id: str = pydantic.Field(description="The resource's id, as in the API.")


class TaskEndPayload(pydantic.BaseModel):
    """A task ended: event type `<resource.type>.<action>.end` when it is
    done, `<resource.type>.<action>.error` when it failed."""

    version: Literal["1.0"] = "1.0"
    task_id: str = pydantic.Field(
        description="GET /v1/tasks/{task_id} has its steps."
    )
    action: str = pydantic.Field(
        description="create, delete, start, stop, reboot, attach, ..."
    )
    status: Literal["done", "failed"]
    resource: Resource
    account_id: str | None = pydantic.Field(
        description="The account that owns the resource."
    )
    request_id: str | None = pydantic.Field(
        description="The X-Request-Id of the HTTP request that made the "
        "task (a caller may send its own, starting with req-)."
    )
    error: TaskError | None = pydantic.Field(
        description="Why it failed; null when done."
    )
    ended_at: dt.datetime = pydantic.Field(
        description="When the task ended (UTC)."
    )


class PowerStatePayload(pydantic.BaseModel):
    """The collector recorded a new power state for an instance (event type
    `instance.power_state.update`): a guest that started, stopped, crashed
    or vanished, whether a task or something else (HA, the guest itself)
    caused it."""

    version: Literal["1.0"] = "1.0"
    instance_id: str
    account_id: str | None = pydantic.Field(
        description="The account that owns the instance."
    )
    host: str | None = pydantic.Field(
        description="The hypervisor host that reported it."
    )
    power_state: str = pydantic.Field(
        description="running, shutdown, crashed, paused or nostate (the "
        "hypervisor has no such guest)."
    )
    previous_power_state: str | None = pydantic.Field(
        description="What the record said before (null: nothing yet)."
    )
    status: str = pydantic.Field(
        description="The instance's status once this was recorded (a crash "
        "of a running instance makes it stopped, a guest missing error)."
    )
    reason: str | None = pydantic.Field(
        description="Why, as the hypervisor host reported it."
    )
    observed_at: dt.datetime = pydantic.Field(
        description="When the collector recorded it (UTC)."
    )


# schema file name -> model: what main() writes and the tests
# validate against.
MODELS: dict[str, type[pydantic.BaseModel]] = {
    "task_end": TaskEndPayload,
    "power_state": PowerStatePayload,
}


def schema(name: str) -> dict:
    """The JSON Schema of payload `name` (generated from its model)."""
    return MODELS[name].model_json_schema()


def schema_text(name: str) -> str:
    return json.dumps(schema(name), indent=2, sort_keys=True) + "\n"


def main() -> None:
    for name in MODELS:
        (SCHEMAS / f"{name}.json").write_text(schema_text(name))


if __name__ == "__main__":
    main()
