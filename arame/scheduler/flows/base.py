"""What every flow shares: step recording, deadlines, the task's end.

A flow runs one task on one resource. Each step is timed and recorded as a
task event with its host; a step that fails raises StepFailed, and the flow
undoes what it had done before it ends the task `failed` and the resource
in `error`. `TaskFlow` knows tasks and steps only; `InstanceFlow` adds what
is an instance's (its state table, usage); volumes, snapshots, nodes and
security groups have flows of their own on `TaskFlow`.
"""

import contextlib
import time
from collections.abc import Callable

import oslo_messaging as messaging
import sqlalchemy as sa
from oslo_log import log

from arame.api.task_watch import rpcapi as task_watch
from arame.common import task_tree, tasks
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models, prepared
from arame.common.db import retry as db_retry
from arame.notifications import publisher
from arame.scheduler.leases import LeaseLost

LOG = log.getLogger(__name__)


class StepFailed(Exception):
    def __init__(self, step: str, message: str):
        super().__init__(f"{step}: {message}")
        self.step = step
        self.message = message


class StepRecord:
    def __init__(self, host: str | None):
        self.host = host


class Cancelled(Exception):
    """The resource was deleted while the flow ran."""


def gives_up(exc: BaseException) -> bool:
    """Errors after which the flow stops where it is and leaves its task
    to be resumed (its lease lapses; a scheduler adopts it): the database
    failed under it, or another scheduler owns the task now."""
    return isinstance(exc, LeaseLost) or db_retry.is_transient(exc)


class HostDown(Exception):
    """The agent did not answer and its host missed its heartbeats."""

    def __init__(self, host: str):
        super().__init__(f"{host} is down (no heartbeat)")
        self.host = host


# What ask() asks again: no answer in time, or the bus could not deliver.
UNANSWERED = (messaging.MessagingTimeout, messaging.MessageDeliveryFailure)


def describe_rpc_error(exc: Exception, host: str | None) -> str:
    if isinstance(exc, HostDown):
        return str(exc)
    if isinstance(exc, messaging.MessagingTimeout):
        return f"no answer from {host or 'agent'} before the deadline"
    if isinstance(exc, messaging.RemoteError):
        return f"{exc.exc_type}: {exc.value}"
    return f"{type(exc).__name__}: {exc}"


class TaskFlow:
    """One task on one resource (`resource_id`, a `kind`): its steps, its
    deadline, and its end, which happens in end_task() only."""

    action = "?"
    kind = "resource"

    def __init__(self, ctxt, task_id: str, resource_id: str):
        self.ctxt = ctxt
        self.task_id = task_id
        self.resource_id = resource_id
        self.deadline = None
        self.usage_notifier = None
        self.task_owner: tuple[str | None, str | None] = (None, None)
        # The task this one is a node of (common/task_tree.py), if any.
        self.parent_id: str | None = None
        self._pending_events: list[dict] = []
        self._pending_step: str | None = None
        # The step the task's row shows, as this flow last committed it.
        self._shown_step: str | None = None
        # Set by the manager: the leases this process holds (None in unit
        # tests of a flow alone), and whether the sweep adopted this task
        # from a scheduler that died (the flow then resumes: resume()).
        self.leases = None
        self.adopted = False
        # Steps a previous attempt recorded done (an adopted task).
        self.done_steps: set[str] = set()
        # (undo step name, host, what undoes it), in the order the steps
        # began: undo_steps() runs them newest first.
        self._undo: list[tuple[str, str | None, Callable[[], object]]] = []

    # -- records -----------------------------------------------------------
    def begin(self) -> bool:
        """queued -> running (owned by this scheduler), having read the
        flow's subject (load()) and run its first step if it has one in
        the same transaction (first_step()); False if the task already ended
        (reaped) or another scheduler took it. An adopted task is already
        ours: read which steps it has done."""
        with db_engine.session() as s:
            # Its events are read only for an adopted task (done_steps):
            # a fresh one has none, and this is every task's first read
            # (a row of what the flow keeps, not an ORM object).
            task = (
                s.get(models.Task, self.task_id)
                if self.adopted
                else self.read_head(s)
            )
            if task is None:
                return False
            self.deadline = task.deadline_at
            # What the end's notification names, read here once.
            self.task_owner = (task.account_id, task.request_id)
            self.parent_id = task.parent_id
            if self.adopted:
                if not (
                    task.status == "running"
                    and task.owner == self.leases.owner
                ):
                    return False
                self.done_steps = {
                    e.step for e in task.events if e.status == "done"
                }
                self.load(s)
            else:
                self.load(s)
                self.first_step(s)
                if not self._take(s):
                    # Another scheduler has it: what first_step() wrote is
                    # not ours to keep.
                    s.rollback()
                    return False
        if self.leases is not None:
            self.leases.hold(self.task_id)
        return True

    def first_step(self, s) -> None:
        """A fresh task's first step, if it needs the database only: run
        in the transaction that takes the task (a COMMIT fewer), before
        the take, which a lost race rolls back with it. It leaves `s`
        usable: a step that fails is recorded in memory, for run() to
        act on; the take commits either way."""

    def _take(self, s) -> bool:
        """The take, with the step first_step() recorded and its events."""
        if self.leases is None:
            took = tasks.set_status(s, self.task_id, "running")
            if took:
                self.flush(s)
            return took
        step = self._pending_step
        values = {} if step is None else {"step": step}
        took = self.leases.take(s, self.task_id, **values)
        if took:
            self.flush(s, fenced_later=True)
        return took

    def read_head(self, s):
        """A fresh task's deadline_at, account_id, request_id and
        parent_id (None if it is gone). A flow may read what load()
        needs in the same statement."""
        return s.execute(_TASK_HEAD, prepared.params(id=self.task_id)).first()

    def load(self, s) -> None:
        """Read what the flow works on, in begin()'s transaction."""

    # -- history, written with the flow's own transactions -----------------
    # Events and the current step wait in memory and go out with the next
    # transaction the flow makes anyway; `checkpoint()` forces them out
    # before every agent call, so that the step a flow is in is always
    # durable when it waits (the reaper names it if the flow dies there).
    def flush(self, s, *, fenced_later: bool = False) -> None:
        """Write what waits in memory, in `s`; it is forgotten only once
        `s` commits (a transaction run again writes it again).
        fenced_later: the caller's next statement fences the task and
        writes the step (end_task), so this one does not."""
        # Events already written in this transaction are not written twice.
        written = s.info.setdefault(("flushed", self.task_id), set())
        events = [e for e in self._pending_events if id(e) not in written]
        written.update(id(e) for e in events)
        step = self._pending_step
        if self.leases is not None and not fenced_later:
            # Fenced: LeaseLost rolls `s` back if we no longer own it.
            values = {} if step is None else {"step": step}
            self.leases.fence(s, self.task_id, **values)
        elif self.leases is None and step is not None:
            s.execute(
                sa.update(models.Task)
                .where(models.Task.id == self.task_id)
                .values(step=step, updated_at=models.utcnow())
            )
        tasks.add_events(s, self.task_id, events)
        if events or step is not None:
            db_engine.on_commit(s, lambda: self._forget(events, step))

    def _forget(self, events: list[dict], step: str | None) -> None:
        gone = {id(e) for e in events}
        self._pending_events = [
            e for e in self._pending_events if id(e) not in gone
        ]
        if step is not None:
            self._shown_step = step
        if self._pending_step == step:
            self._pending_step = None

    def enter(self, name: str) -> None:
        """Show step `name` from the flow's next write: a transaction
        made anyway just before the step (the take, a read) writes it, so
        that the step's own checkpoint has nothing to write. Only for the
        step the flow enters next, with nothing else between."""
        self._pending_step = name

    def checkpoint(self) -> None:
        if self._pending_events or self._pending_step is not None:
            with db_engine.session() as s:
                self.flush(s)

    def remaining(self) -> float:
        return (self.deadline - models.utcnow()).total_seconds()

    def call_timeout(self, step: str, want: float | None = None) -> float:
        """One call's deadline: what the step may take (`want`, default
        [scheduler] agent_call_timeout), within the task's deadline."""
        left = self.remaining()
        if left <= 0:
            raise StepFailed(step, "task deadline passed")
        want = want or CONF.scheduler.agent_call_timeout
        return max(1.0, min(want, left))

    def ask(
        self,
        step: str,
        host: str,
        method: Callable,
        *args,
        want: float | None = None,
        down: Callable[[], bool] | None = None,
        **kwargs,
    ):
        """method(ctxt, host, *args, timeout=..., **kwargs): an agent's
        operation, all of which are idempotent, so a call that got no
        answer (the agent restarting, the message lost with a broker) is
        asked again, with backoff, until it is answered, `down()` says
        the host is down (HostDown), or the task's deadline passes."""
        pause = 0.5
        while True:
            timeout = self.call_timeout(step, want)
            try:
                return method(
                    self.ctxt, host, *args, timeout=timeout, **kwargs
                )
            except UNANSWERED as e:
                if down is not None and down():
                    raise HostDown(host) from e
                if self.remaining() <= pause:
                    raise
                LOG.info(
                    "task %s: %s did not answer %s (%s); asking again "
                    "in %.1f s",
                    self.task_id,
                    host,
                    step,
                    type(e).__name__,
                    pause,
                )
                time.sleep(pause)
                pause = min(2 * pause, CONF.scheduler.agent_retry_max_interval)

    @contextlib.contextmanager
    def step(
        self,
        name: str,
        host: str | None = None,
        undo: Callable[[], object] | None = None,
    ):
        """Time a step; record it done, or failed with the reason.

        Yields a record whose `host` the step may set once it knows it
        (the schedule step learns it by claiming). `undo`, if given, is
        kept from the moment the step begins (an agent call that failed
        or timed out may still have happened; undos are idempotent) and
        runs as step `undo-<name>` in undo_steps().
        """
        rec = StepRecord(host)
        if undo is not None:
            self._undo.append((f"undo-{name}", host, undo))
        # The task shows the step it is in (progress for --wait, and the
        # step the reaper names if the flow dies here): see flush(). Not
        # written again if the row shows it already (enter()).
        self._pending_step = None if name == self._shown_step else name
        t0 = time.monotonic()
        try:
            yield rec
        except StepFailed as e:
            self._event(name, "failed", t0, rec.host, e.message)
            raise
        except Cancelled:
            self._event(
                name, "cancelled", t0, rec.host, f"{self.kind} was deleted"
            )
            raise
        except Exception as e:
            if gives_up(e):
                raise  # the task is resumed, this step included
            # An agent's error or a refusal: the step failed.
            msg = describe_rpc_error(e, rec.host)
            self._event(name, "failed", t0, rec.host, msg)
            raise StepFailed(name, msg) from e
        else:
            self._event(name, "done", t0, rec.host)

    def undo_steps(self) -> bool:
        """Undo the steps that took an `undo`, newest first, each recorded
        as a step; stop at the first that fails (what is left stays for a
        DELETE to remove). True once everything is undone."""
        while self._undo:
            name, host, undo = self._undo.pop()
            try:
                with self.step(name, host=host):
                    self.checkpoint()
                    undo()
            except StepFailed:
                LOG.warning(
                    "%s %s: could not %s on %s",
                    self.kind,
                    self.resource_id,
                    name,
                    host,
                )
                self._undo.clear()
                return False
        return True

    def _event(self, step, status, t0, host, message=None):
        self._pending_events.append(
            dict(
                step=step,
                status=status,
                host=host,
                message=message,
                at=models.utcnow(),
                duration_ms=round((time.monotonic() - t0) * 1000, 2),
            )
        )

    def note(self, step: str, message: str) -> None:
        """An event that is no timed step (e.g. nothing to do)."""
        self._pending_events.append(
            dict(
                step=step,
                status="done",
                host=None,
                message=message,
                at=models.utcnow(),
            )
        )

    def notify_usage(self, event: str, payload: dict) -> None:
        """After the commit that made it true: the collector appends the
        ledger record (exactly once, however often this is delivered)."""
        if self.usage_notifier is None:
            return
        try:
            self.usage_notifier.info({}, f"usage.{event}", payload)
        except Exception:
            LOG.exception(
                "could not send usage.%s of %s",
                event,
                payload.get("resource_id"),
            )

    # -- the end -----------------------------------------------------------
    def end_task(
        self,
        s,
        status: str,
        step: str | None = None,
        message: str | None = None,
    ) -> bool:
        """The one place a flow ends its task (`done`, or `failed` at
        `step` with `message`), in the caller's transaction with the
        history still in memory; False if it had ended already (the
        reaper)."""
        values = (
            {}
            if status == "done"
            else {
                "error_step": step,
                "error_message": (message or status)[:1024],
            }
        )
        if self.leases is not None:
            # The fence and the end in one statement, not two.
            self.flush(s, fenced_later=True)
            if self._pending_step is not None:
                values["step"] = self._pending_step
            ended = self.leases.end(s, self.task_id, status, **values)
        else:
            self.flush(s)
            ended = tasks.set_status(s, self.task_id, status, **values)
        if ended:
            # After the commit: long-polling clients then read the end.
            task_id = self.task_id
            db_engine.on_commit(
                s, lambda: task_watch.task_ended(task_id, status)
            )
            account_id, request_id = self.task_owner
            publisher.task_ended(
                s,
                task_id=self.task_id,
                resource_type=self.kind,
                resource_id=self.resource_id,
                action=self.action,
                status=status,
                account_id=account_id,
                request_id=request_id,
                step=step,
                message=message,
            )
            if self.parent_id is not None:
                # After the commit: the last child to commit then sees
                # every sibling ended (the sweep covers a crash here).
                parent_id = self.parent_id
                db_engine.on_commit(
                    s, lambda: task_tree.settle_soon(parent_id)
                )
        return ended

    def finish(self, s) -> bool:
        return self.end_task(s, "done")

    def fail(
        self,
        step: str | None,
        message: str,
        *,
        resource_error: bool = True,
        reason: str | None = None,
    ) -> None:
        """End the task failed and (resource_error) put the resource in
        error with `reason` (default: error_reason()), in one commit."""
        with db_engine.session() as s:
            self.end_task(s, "failed", step, message)
            if resource_error:
                self.mark_error(s, reason or self.error_reason(step, message))
        LOG.warning(
            "task %s (%s %s) failed at %s: %s",
            self.task_id,
            self.action,
            self.resource_id,
            step,
            message,
        )

    def error_reason(self, step: str | None, message: str) -> str:
        return f"{self.action} failed at {step}: {message}"[:255]

    def mark_error(self, s, reason: str) -> None:
        """Put the resource in error (if it is still in this flow's
        states); a resource without an error state has nothing to do."""


_t = models.Task.__table__
# Every task's first read: built once (common/db/prepared.py).
_TASK_HEAD = sa.select(
    _t.c.deadline_at, _t.c.account_id, _t.c.request_id, _t.c.parent_id
).where(_t.c.id == prepared.bound("id"))
