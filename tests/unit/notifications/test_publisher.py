"""A notification goes out after the commit that made it true, never
after a rollback, and not at all when [notifications] enabled is off."""

import pytest
import sqlalchemy as sa

from arame.common.db import engine
from arame.notifications import publisher


class Recorder:
    def __init__(self):
        self.sent = []

    def info(self, ctxt, event, payload):
        self.sent.append(("info", event, payload))

    def error(self, ctxt, event, payload):
        self.sent.append(("error", event, payload))


@pytest.fixture
def sent(db, monkeypatch):
    rec = Recorder()
    monkeypatch.setattr(publisher, "get_notifier", lambda: rec)
    return rec.sent


def end(s, status="done"):
    publisher.task_ended(
        s,
        task_id="task-1",
        resource_type="volume",
        resource_id="vol-1",
        action="create",
        status=status,
        step=None if status == "done" else "clone",
        message=None if status == "done" else "pool full",
    )


def test_published_once_the_transaction_commits(config, sent):
    config("enabled", True, group="notifications")
    with engine.session() as s:
        end(s)
        s.execute(sa.text("SELECT 1"))
        assert sent == []  # not before the commit
    assert [(p, e) for p, e, _ in sent] == [("info", "volume.create.end")]


def test_a_failure_goes_out_at_error_priority(config, sent):
    config("enabled", True, group="notifications")
    with engine.session() as s:
        end(s, "failed")
    [(priority, event, payload)] = sent
    assert (priority, event) == ("error", "volume.create.error")
    assert payload["error"] == {"step": "clone", "message": "pool full"}


def test_nothing_goes_out_after_a_rollback(config, sent):
    config("enabled", True, group="notifications")
    with pytest.raises(RuntimeError), engine.session() as s:
        end(s)
        raise RuntimeError("the transaction fails")
    with engine.session() as s:
        s.execute(sa.text("SELECT 1"))
    assert sent == []


def test_nothing_is_built_when_disabled(sent):
    with engine.session() as s:
        end(s)
        assert publisher._QUEUED not in s.info
    assert sent == []


def test_a_broker_error_does_not_undo_the_commit(config, db, monkeypatch):
    config("enabled", True, group="notifications")

    class Down:
        def info(self, *a):
            raise OSError("broker down")

    monkeypatch.setattr(publisher, "get_notifier", Down)
    with engine.session() as s:  # raises nothing
        end(s)
