"""Each task a flow ends is announced once on the public topic, with who
owns it and why it failed, and a task the reaper ended first is not."""

import json

import jsonschema
import pytest

from arame.common import tasks
from arame.common.db import engine, models
from arame.notifications import payloads, publisher
from arame.scheduler.flows.base import StepFailed, TaskFlow

SCHEMA = json.loads((payloads.SCHEMAS / "task_end.json").read_text())


class OneStep(TaskFlow):
    action, kind = "create", "volume"

    def __init__(self, ctxt, task_id, fail=False):
        super().__init__(ctxt, task_id, "vol-1")
        self.failing = fail

    def run(self):
        if not self.begin():
            return
        try:
            with self.step("clone", host="sta-1"):
                if self.failing:
                    raise StepFailed("clone", "pool full")
        except StepFailed as e:
            self.fail(e.step, e.message, resource_error=False)
            return
        with engine.session() as s:
            self.finish(s)


@pytest.fixture
def sent(cloud, config, monkeypatch):
    config("enabled", True, group="notifications")
    out = []

    class Recorder:
        def info(self, ctxt, event, payload):
            out.append((event, payload))

        error = info

    monkeypatch.setattr(publisher, "get_notifier", Recorder)
    return out


@pytest.fixture
def task(sent):
    with engine.session() as s:
        t = tasks.create(
            s,
            account_id="a-admin",
            resource_id="vol-1",
            resource_type="volume",
            action="create",
            timeout_s=600,
            request_id="req-abc",
        )
        return t.id


def test_a_task_done_is_announced_once(ctxt, task, sent):
    OneStep(ctxt, task).run()

    [(event, payload)] = sent
    assert event == "volume.create.end"
    jsonschema.validate(payload, SCHEMA)
    assert payload["task_id"] == task
    assert payload["resource"] == {"type": "volume", "id": "vol-1"}
    assert (payload["account_id"], payload["request_id"]) == (
        "a-admin",
        "req-abc",
    )
    assert payload["status"] == "done"


def test_a_task_failed_is_announced_with_its_step(ctxt, task, sent):
    OneStep(ctxt, task, fail=True).run()

    [(event, payload)] = sent
    assert event == "volume.create.error"
    jsonschema.validate(payload, SCHEMA)
    assert payload["error"] == {"step": "clone", "message": "pool full"}


def test_a_task_the_reaper_ended_first_is_not_announced_again(
    ctxt, task, sent
):
    flow = OneStep(ctxt, task)
    assert flow.begin()
    with engine.session() as s:
        tasks.fail(s, task, "clone", "deadline passed")
    with engine.session() as s:
        assert not flow.finish(s)
    assert sent == []


def test_a_payload_that_cannot_be_built_does_not_keep_the_task_open(
    ctxt, task, sent, monkeypatch
):
    def broken(**fields):
        raise ValueError("a field the model refuses")

    monkeypatch.setattr(publisher.payloads, "TaskEndPayload", broken)
    OneStep(ctxt, task).run()

    assert sent == []
    with engine.session() as s:
        assert s.get(models.Task, task).status == "done"
