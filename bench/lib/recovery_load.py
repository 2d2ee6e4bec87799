"""The recovery bench's steady load: `concurrency` workers, each running
boot+delete cycles over HTTP one after another for the whole run, every
request recorded with when it was sent, accepted and seen final.

Each worker is a careful user (as the chaos suite's Burst): a request that
got no answer (the API being killed), a 502/503/504 (the database or the
broker away) or a 409 that says to try again is sent again for up to
`retry_for` seconds, a boot with the same Idempotency-Key, so that a retry
never makes a second instance. A task is polled until it is done or
failed, or `patience` seconds after it was accepted.
"""

import dataclasses
import threading
import time
import uuid

from arame.sdk import ArameError, Client
from arame.sdk.errors import ConnectionFailed

FLAVOR = "small"
IMAGE_NAME = "arame-test"
TRANSIENT = (502, 503, 504)
# Outcomes a user has an answer for; "stuck" (not final in patience),
# "unanswered" (no answer in retry_for) and "cut" (the run stopped first)
# are not.
FINAL = ("done", "failed", "refused")


@dataclasses.dataclass
class Request:
    kind: str  # boot or delete
    worker: int
    sent_at: float  # time.monotonic() of the first try
    resource_id: str | None = None
    task_id: str | None = None
    accepted_at: float | None = None
    final_at: float | None = None  # the first poll that saw it final
    # done, failed (the task, with a reason), refused (an HTTP error not
    # worth a retry), or one of the ends that are not final (FINAL)
    outcome: str | None = None
    error: str | None = None
    # Sends and polls repeated: no answer, a 5xx, a 409 "try again".
    transient: int = 0

    @property
    def final(self) -> bool:
        return self.final_at is not None


@dataclasses.dataclass
class Cycle:
    worker: int
    started_at: float
    ended_at: float
    ok: bool


class Stopped(Exception):
    pass


def _true(check) -> bool:
    """check() if there is one and it answers; False otherwise."""
    try:
        return check is not None and bool(check())
    except ArameError:
        return False


def describe(e: Exception) -> str:
    if isinstance(e, ArameError):
        return str(e)
    return f"{type(e).__name__}: {e}"


def find_image(client: Client) -> str:
    return next(
        i["id"] for i in client.images.list() if i["name"] == IMAGE_NAME
    )


class SteadyLoad:
    def __init__(
        self,
        dep,
        *,
        concurrency: int = 6,
        poll: float = 0.2,
        retry_for: float = 60,
        patience: float = 180,
        http_timeout: float = 30,
    ):
        self.dep = dep
        self.concurrency = concurrency
        self.poll, self.retry_for = poll, retry_for
        self.patience, self.http_timeout = patience, http_timeout
        self.requests: list[Request] = []
        self.cycles: list[Cycle] = []
        self.crashed: list[str] = []  # the load's own bugs
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.image: str | None = None

    # -- running ----------------------------------------------------------
    def start(self) -> "SteadyLoad":
        with self.dep.client(self.http_timeout) as c:
            self.image = find_image(c)
        for w in range(self.concurrency):
            t = threading.Thread(
                target=self._worker, args=(w,), name=f"load-{w}", daemon=True
            )
            t.start()
            self._threads.append(t)
        return self

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        end = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.1, end - time.monotonic()))

    def snapshot(self) -> tuple[list[Request], list[Cycle]]:
        with self._lock:
            return list(self.requests), list(self.cycles)

    def _worker(self, w: int) -> None:
        client = None
        n = 0
        while not self._stop.is_set():
            try:
                if client is None:
                    client = self.dep.client(self.http_timeout)
                self._cycle(client, w, n)
            except Stopped:
                break
            except ConnectionFailed:
                # The login itself met the outage: try again shortly.
                client = None
                self._stop.wait(1)
            except Exception as e:  # report, keep the load going
                with self._lock:
                    self.crashed.append(f"worker {w}: {describe(e)}")
                self._stop.wait(1)
            n += 1
        if client is not None:
            client.close()

    def _cycle(self, client: Client, w: int, n: int) -> None:
        started = time.monotonic()
        key = uuid.uuid4().hex
        boot = self._request("boot", w)
        answer = self._send(
            client,
            boot,
            lambda: client.instances.create(
                f"rb-{w}-{n}",
                flavor=FLAVOR,
                image=self.image,
                idempotency_key=key,
            ),
        )
        if answer is None:
            self._cycle_end(w, started, False)
            return
        boot.resource_id = answer["id"]
        self._wait(client, boot, answer["task_id"])
        delete = self._request("delete", w)
        delete.resource_id = boot.resource_id
        answer = self._send(
            client,
            delete,
            lambda: client.instances.delete(boot.resource_id),
            gone=lambda: (
                client.instances.get(boot.resource_id)["status"]
                == "terminated"
            ),
        )
        if answer is not None:
            self._wait(client, delete, answer["task_id"])
        self._cycle_end(
            w, started, boot.outcome == "done" and delete.outcome == "done"
        )

    def _cycle_end(self, w, started, ok) -> None:
        with self._lock:
            self.cycles.append(Cycle(w, started, time.monotonic(), ok))

    def _request(self, kind: str, w: int) -> Request:
        r = Request(kind, w, time.monotonic())
        with self._lock:
            self.requests.append(r)
        return r

    def _end(self, r: Request, outcome: str, error: str | None = None):
        r.outcome, r.error = outcome, error
        r.final_at = time.monotonic() if outcome in FINAL else None

    # -- one request ------------------------------------------------------
    def _send(self, client: Client, r: Request, call, gone=None):
        """call() until answered: the answer, or None (r ended)."""
        last = None
        while True:
            if self._stop.is_set():
                self._end(r, "cut")
                raise Stopped()
            try:
                answer = call()
                r.accepted_at = time.monotonic()
                return answer
            except ConnectionFailed:
                pass
            except ArameError as e:
                if e.status_code == 401:
                    self._login(client)
                elif e.status_code == 409 and _true(gone):
                    # A retried delete whose first try went through.
                    r.accepted_at = time.monotonic()
                    self._end(r, "done")
                    return None
                elif e.status_code not in (*TRANSIENT, 409):
                    self._end(r, "refused", describe(e))
                    return None
                last = describe(e)
            r.transient += 1
            if time.monotonic() - r.sent_at > self.retry_for:
                self._end(
                    r,
                    "unanswered",
                    f"no answer in {self.retry_for:g} s"
                    + (f" (last: {last})" if last else ""),
                )
                return None
            self._stop.wait(0.5)

    def _login(self, client: Client) -> None:
        try:
            client.login("admin", self.dep.admin_password)
        except ArameError:
            pass

    def _wait(self, client: Client, r: Request, task_id: str) -> None:
        r.task_id = task_id
        while True:
            if self._stop.wait(self.poll):
                self._end(r, "cut")
                raise Stopped()
            try:
                task = client.tasks.get(task_id)
            except ConnectionFailed:
                task = None
                r.transient += 1
            except ArameError as e:
                if e.status_code == 401:
                    self._login(client)
                elif e.status_code not in TRANSIENT:
                    self._end(r, "refused", f"GET task: {describe(e)}")
                    return
                task = None
                r.transient += 1
            if task and task["status"] == "done":
                self._end(r, "done")
                return
            if task and task["status"] == "failed":
                err = task.get("error") or {}
                self._end(
                    r,
                    "failed",
                    f"at {err.get('step')}: {err.get('message')}",
                )
                return
            if time.monotonic() - r.accepted_at > self.patience:
                step = (task or {}).get("step")
                self._end(
                    r,
                    "stuck",
                    f"task {task_id} not final in {self.patience:g} s "
                    f"(step {step})",
                )
                return
