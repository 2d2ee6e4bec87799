"""The bus's share of a cycle's floor: as many casts, calls and
notifications as one boot+delete cycle sends, through Arame's own
oslo.messaging set-up (quorum queues, publisher confirms) to a server
process whose endpoints do nothing. Real messages carry bigger payloads
and go to several processes, so this is a lower bound."""

import signal
import subprocess
import sys
import threading
import time

from .run import Deadline, run_threads

TOPIC = "floor"
SERVER = "floor-server"
# About the size of a build's cast (the instance's id, the task's, the
# caller's context travels beside it).
PAYLOAD = {"instance_id": "0" * 36, "task_id": "1" * 36, "spec": "x" * 200}


def serve(conf: str) -> int:
    """The server process: counts what it is sent, answers calls."""
    import arame.cmd  # noqa: F401  (threading backend first)
    from arame.common import rpc
    from arame.common.conf import parse_args

    parse_args(["--config-file", conf])
    lock = threading.Lock()
    seen = {"casts": 0, "notifications": 0}

    class Endpoint:
        def note(self, ctxt, payload):
            with lock:
                seen["casts"] += 1

        def op(self, ctxt, payload):
            return {"ok": True}

        def counts(self, ctxt):
            with lock:
                return dict(seen)

    class Listener:
        def info(self, ctxt, publisher_id, event_type, payload, metadata):
            with lock:
                seen["notifications"] += 1

    server = rpc.get_server(TOPIC, SERVER, [Endpoint()])
    listener = rpc.get_notification_listener(
        [rpc.notifier.TOPIC], [Listener()]
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    listener.start()
    print("ready", flush=True)
    stop.wait()
    server.stop()
    listener.stop()
    server.wait()
    listener.wait()
    return 0


class BusFloor:
    def __init__(
        self,
        script: str,
        conf: str,
        counts: dict[str, int],
        concurrency: int,
        timeout: float = 60,
    ):
        import arame.cmd  # noqa: F401
        from arame.common import rpc
        from arame.common.conf import parse_args
        from arame.common.context import admin_context

        self.counts_per_cycle = counts
        self.proc = subprocess.Popen(
            [sys.executable, script, "--serve-bus", conf],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the bus floor's server did not start")
        parse_args(["--config-file", conf])
        self.ctxt = admin_context()
        self.topic = rpc.get_client(TOPIC)
        self.direct = self.topic.prepare(server=SERVER, timeout=timeout)
        self.notifier = rpc.get_notifier("floor")
        self.concurrency = concurrency
        self._sent = {"casts": 0, "notifications": 0}
        self._lock = threading.Lock()

    def pids(self) -> dict[int, str]:
        return {self.proc.pid: "bus server (agents, scheduler, collector)"}

    def _cycle(self) -> None:
        n = self.counts_per_cycle
        for _ in range(n["casts"]):
            self.topic.cast(self.ctxt, "note", payload=PAYLOAD)
        for _ in range(n["calls"]):
            self.direct.call(self.ctxt, "op", payload=PAYLOAD)
        for _ in range(n["notifications"]):
            self.notifier.info(self.ctxt, "floor.event", PAYLOAD)
        with self._lock:
            self._sent["casts"] += n["casts"]
            self._sent["notifications"] += n["notifications"]

    def warm(self) -> None:
        run_threads(
            [self._cycle] * self.concurrency, self.concurrency, Deadline(60)
        )
        self.settle(Deadline(60))

    def settle(self, deadline: Deadline) -> bool:
        """Wait until the server has counted every cast and notification."""
        while not deadline.passed():
            if self.direct.call(self.ctxt, "counts") == self._sent:
                return True
            time.sleep(0.05)
        return False

    def run(self, cycles: int, deadline: Deadline) -> int:
        done = run_threads([self._cycle] * self.concurrency, cycles, deadline)
        if not self.settle(deadline):
            raise RuntimeError("the bus floor's server missed messages")
        return done

    def close(self) -> None:
        from arame.common import rpc

        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        rpc.cleanup()
