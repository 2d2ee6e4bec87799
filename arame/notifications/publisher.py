"""Publishing the public notifications after the commit that made them true.

A flow ends its task inside a transaction; a consumer must never hear of
an end that was rolled back. So task_ended() only queues the message on the
session, and one listener publishes what a session queued once it has
committed (and drops it on a rollback). With [notifications] enabled off
(the default) nothing is built or queued.
"""

import datetime as dt
import threading

import oslo_messaging as messaging
import sqlalchemy as sa
from oslo_log import log
from sqlalchemy import orm

from arame.common.conf import CONF
from arame.common.rpc import serializer, transport
from arame.common.rpc.notifier import notify_retry
from arame.notifications import payloads

LOG = log.getLogger(__name__)

_QUEUED = "arame.public_notifications"
POWER_STATE_UPDATE = "instance.power_state.update"
_lock = threading.Lock()
_notifier = None


def event_type(resource_type: str, action: str, status: str) -> str:
    """`instance.create.end`, `volume.delete.error`, ..."""
    kind = resource_type.replace(" ", "_")
    return f"{kind}.{action}.{'end' if status == 'done' else 'error'}"


def get_notifier():
    """The process's notifier on [notifications] topics (created once)."""
    global _notifier
    with _lock:
        if _notifier is None:
            _notifier = messaging.Notifier(
                transport.get_notification_transport(),
                publisher_id=f"arame.{CONF.host}",
                driver="messagingv2",
                topics=list(CONF.notifications.topics),
                serializer=serializer.Serializer(),
                # Not the driver's -1, which loses messages on a failover.
                retry=notify_retry(),
            )
        return _notifier


def reset() -> None:
    """Forget the notifier (tests, and after the transport is cleaned up)."""
    global _notifier
    with _lock:
        _notifier = None


def task_ended(session, **end) -> None:
    """Queue `<resource>.<action>.end|error` on `session`: published when
    it commits. Reads nothing from the database. `end`: task_end()'s
    arguments."""
    if not CONF.notifications.enabled:
        return
    try:
        queue(session, *task_end(**end))
    except Exception:
        # Called inside the transaction that ends the task: a payload
        # that cannot be built must not roll that end back.
        LOG.exception("could not build the end of task %s", end.get("task_id"))


def task_end(
    *,
    task_id: str,
    resource_type: str,
    resource_id: str,
    action: str,
    status: str,
    account_id: str | None = None,
    request_id: str | None = None,
    step: str | None = None,
    message: str | None = None,
) -> tuple[str, str, payloads.TaskEndPayload]:
    """(priority, event type, payload) of a task's end."""
    failed = status != "done"
    payload = payloads.TaskEndPayload(
        task_id=task_id,
        action=action,
        status="failed" if failed else "done",
        resource=payloads.Resource(
            type=resource_type.replace(" ", "_"), id=resource_id
        ),
        account_id=account_id,
        request_id=request_id,
        error=(
            payloads.TaskError(step=step, message=message or status)
            if failed
            else None
        ),
        ended_at=dt.datetime.now(dt.UTC),
    )
    return (
        "error" if failed else "info",
        event_type(resource_type, action, status),
        payload,
    )


def power_state_changed(
    session,
    *,
    instance_id: str,
    account_id: str | None,
    host: str | None,
    power_state: str,
    previous_power_state: str | None,
    status: str,
    reason: str | None = None,
) -> None:
    """Queue `instance.power_state.update` on the collector's `session`
    (published when it commits), from what it holds already."""
    if not CONF.notifications.enabled:
        return
    try:
        payload = payloads.PowerStatePayload(
            instance_id=instance_id,
            account_id=account_id,
            host=host,
            power_state=power_state,
            previous_power_state=previous_power_state,
            status=status,
            reason=reason,
            observed_at=dt.datetime.now(dt.UTC),
        )
        queue(session, "info", POWER_STATE_UPDATE, payload)
    except Exception:
        # Never lose the record for the sake of its announcement.
        LOG.exception("could not build the power state of %s", instance_id)


def queue(session, priority: str, event: str, payload) -> None:
    session.info.setdefault(_QUEUED, []).append(
        (priority, event, payload.model_dump(mode="json"))
    )


@sa.event.listens_for(orm.Session, "after_commit")
def _publish(session) -> None:
    for priority, event, payload in session.info.pop(_QUEUED, ()):
        try:
            getattr(get_notifier(), priority)({}, event, payload)
        except Exception:
            # The task has ended whatever the bus says: a consumer that
            # missed it finds the end with GET /v1/tasks/{id}.
            LOG.exception("could not publish %s", event)


@sa.event.listens_for(orm.Session, "after_rollback")
def _drop(session) -> None:
    session.info.pop(_QUEUED, None)
