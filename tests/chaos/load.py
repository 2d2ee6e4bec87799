"""A burst of user requests over HTTP, in background threads, while faults
happen: instance creates (flavor small, the test image), actions on
running or stopped instances, instance deletes, volumes, snapshots of
them and their deletes.

A client as a careful user writes it: a request that got no answer (the
API was being killed) or a 503 (the database away) is sent again, creates
with the same Idempotency-Key so that a retry never makes a second
resource. Every accepted request is recorded with its resource and task;
what the API refused (a 409 for a state the burst raced) is counted, and
any other 5xx is a failure the test reports.
"""

import dataclasses
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from arame.sdk import Client
from arame.sdk.errors import ArameError, ConnectionFailed

TEST_IMAGE = "arame-test"  # the seeded guest (a kernel: a local disk)
RETRY_FOR = 60  # seconds a request is retried while the API is away
RETRY_EVERY = 0.5
TRANSIENT = (502, 503, 504)

# Operation -> weight in the mix; one that has nothing to act on (no
# running instance yet, no available volume) makes an instance instead.
MIX = {
    "instance.create": 40,
    "instance.action": 20,
    "instance.delete": 18,
    "volume.create": 8,
    "snapshot.create": 6,
    "snapshot.delete": 4,
    "volume.delete": 4,
}


@dataclasses.dataclass
class Accepted:
    kind: str  # "instance.create", "instance.stop", "volume.delete" ...
    resource_type: str  # instance, volume, snapshot
    resource_id: str
    task_id: str | None  # None: a retried action the first try had started
    at: float  # time.monotonic() of the answer

    def __str__(self):
        return f"{self.kind} {self.resource_id} (task {self.task_id})"


class Unanswered(Exception):
    pass


class Burst:
    """`requests` operations spread over `seconds`, run by `workers`
    threads; start(), then join()."""

    def __init__(
        self,
        dep,
        *,
        requests: int = 60,
        seconds: float = 60,
        workers: int = 6,
        seed: int = 17,
        mix: dict | None = None,
    ):
        self.dep = dep
        self.requests, self.seconds = requests, seconds
        self.mix = mix or MIX
        self._rand = random.Random(seed)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="burst")
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._futures = []
        self.client: Client | None = None
        self.image: str | None = None
        self.accepted: list[Accepted] = []
        self.refused: Counter = Counter()  # (kind, status) -> count
        self.server_errors: list[str] = []  # 5xx other than 503
        self.unanswered: list[str] = []
        self.crashed: list[str] = []  # the harness's own errors
        self.finished_at: float | None = None
        # What the burst made and has not deleted (its choices only).
        self._instances: list[str] = []
        self._volumes: list[str] = []
        self._snapshots: dict[str, str] = {}  # snapshot -> volume

    # -- running ------------------------------------------------------------
    def start(self) -> "Burst":
        self.client = self.dep.client()
        self.image = next(
            i["id"]
            for i in self.client.images.list()
            if i["name"] == TEST_IMAGE
        )
        self._thread = threading.Thread(
            target=self._dispatch, name="burst-dispatch", daemon=True
        )
        self._thread.start()
        return self

    def _dispatch(self) -> None:
        t0 = time.monotonic()
        for n in range(self.requests):
            when = t0 + n * self.seconds / self.requests
            if self._stop.wait(max(0.0, when - time.monotonic())):
                return
            self._futures.append(self._pool.submit(self._one, n))

    def join(self, timeout: float) -> None:
        """Every operation sent and answered (or given up on)."""
        assert self._thread is not None, "start() first"
        self._thread.join(timeout)
        deadline = time.monotonic() + timeout
        for f in list(self._futures):
            f.result(max(0.1, deadline - time.monotonic()))
        self._pool.shutdown(wait=True)
        self.finished_at = time.monotonic()

    def stop(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self.client is not None:
            self.client.close()

    @property
    def running(self) -> bool:
        return self._thread is not None and (
            self._thread.is_alive() or any(not f.done() for f in self._futures)
        )

    # -- one operation --------------------------------------------------------
    def _one(self, n: int) -> None:
        with self._lock:
            kind = self._rand.choices(
                list(self.mix), weights=list(self.mix.values())
            )[0]
            pick = self._rand.random()
        try:
            if not getattr(self, "_" + kind.replace(".", "_"))(n, pick):
                self._instance_create(n, pick)
        except Unanswered as e:
            with self._lock:
                self.unanswered.append(str(e))
        except Exception as e:  # the harness's bug: report, don't hide
            with self._lock:
                self.crashed.append(f"{kind}: {type(e).__name__}: {e}")

    def _send(self, kind: str, call):
        """call() until answered; the answer, or None if refused (4xx)."""
        give_up = time.monotonic() + RETRY_FOR
        while True:
            try:
                return call()
            except ConnectionFailed:
                pass
            except ArameError as e:
                if e.status_code in TRANSIENT:
                    pass
                elif e.status_code == 401:
                    self.client.login("admin", self.dep.admin_password)
                elif e.status_code and e.status_code >= 500:
                    with self._lock:
                        self.server_errors.append(f"{kind}: {e}")
                    return None
                else:
                    with self._lock:
                        self.refused[(kind, e.status_code)] += 1
                    return None
            if time.monotonic() > give_up:
                raise Unanswered(f"{kind}: no answer in {RETRY_FOR} s")
            time.sleep(RETRY_EVERY)

    def _record(self, kind, rtype, rid, task_id) -> None:
        with self._lock:
            self.accepted.append(
                Accepted(kind, rtype, rid, task_id, time.monotonic())
            )

    def _choose(self, items: list, pick: float):
        with self._lock:
            return items[int(pick * len(items))] if items else None

    def _instance_create(self, n, pick) -> bool:
        key = uuid.uuid4().hex
        r = self._send(
            "instance.create",
            lambda: self.client.instances.create(
                name=f"cx{n}",
                flavor="small",
                image=self.image,
                idempotency_key=key,
            ),
        )
        if r:
            self._record("instance.create", "instance", r["id"], r["task_id"])
            with self._lock:
                self._instances.append(r["id"])
        return True

    def _instance_action(self, n, pick) -> bool:
        iid = self._choose(self._instances, pick)
        if iid is None:
            return False
        status = self._send(
            "instance.get", lambda: self.client.instances.get(iid)
        )
        action = {
            "running": "reboot" if pick < 0.3 else "stop",
            "stopped": "start",
        }.get((status or {}).get("status"))
        if action is None:
            return False
        kind = f"instance.{action}"
        r = self._send(kind, lambda: self.client.instances.action(iid, action))
        if r:
            self._record(kind, "instance", iid, r.get("task_id"))
        return True

    def _instance_delete(self, n, pick) -> bool:
        iid = self._choose(self._instances, pick)
        if iid is None:
            return False
        with self._lock:
            self._instances.remove(iid)
        r = self._send(
            "instance.delete", lambda: self.client.instances.delete(iid)
        )
        if r is not None:
            self._record("instance.delete", "instance", iid, r.get("task_id"))
        return True

    def _volume_create(self, n, pick) -> bool:
        key = uuid.uuid4().hex
        r = self._send(
            "volume.create",
            lambda: self.client.volumes.create(
                f"cxv{n}", size_gb=1, idempotency_key=key
            ),
        )
        if r:
            self._record("volume.create", "volume", r["id"], r["task_id"])
            with self._lock:
                self._volumes.append(r["id"])
        return True

    def _available(self, get, rid) -> bool:
        shown = self._send("get", lambda: get(rid))
        return (shown or {}).get("status") == "available"

    def _snapshot_create(self, n, pick) -> bool:
        with self._lock:
            free = [
                v for v in self._volumes if v not in self._snapshots.values()
            ]
        vid = self._choose(free, pick)
        if vid is None or not self._available(self.client.volumes.get, vid):
            return False
        key = uuid.uuid4().hex
        r = self._send(
            "snapshot.create",
            lambda: self.client.snapshots.create(
                f"cxs{n}", vid, idempotency_key=key
            ),
        )
        if r:
            self._record("snapshot.create", "snapshot", r["id"], r["task_id"])
            with self._lock:
                self._snapshots[r["id"]] = vid
        return True

    def _snapshot_delete(self, n, pick) -> bool:
        sid = self._choose(sorted(self._snapshots), pick)
        if sid is None or not self._available(self.client.snapshots.get, sid):
            return False
        r = self._send(
            "snapshot.delete", lambda: self.client.snapshots.delete(sid)
        )
        if r is not None:
            self._record("snapshot.delete", "snapshot", sid, r.get("task_id"))
            with self._lock:
                self._snapshots.pop(sid, None)
        return True

    def _volume_delete(self, n, pick) -> bool:
        with self._lock:
            free = [
                v for v in self._volumes if v not in self._snapshots.values()
            ]
        vid = self._choose(free, pick)
        if vid is None or not self._available(self.client.volumes.get, vid):
            return False
        with self._lock:
            self._volumes.remove(vid)
        r = self._send(
            "volume.delete", lambda: self.client.volumes.delete(vid)
        )
        if r is not None:
            self._record("volume.delete", "volume", vid, r.get("task_id"))
        return True

    # -- what happened --------------------------------------------------------
    def summary(self) -> str:
        kinds = Counter(a.kind for a in self.accepted)
        return (
            f"{len(self.accepted)} accepted ("
            + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
            + f"); refused {dict(self.refused)}; "
            f"unanswered {len(self.unanswered)}; "
            f"5xx {len(self.server_errors)}"
        )
