"""What every phase of a run shares: its deadline and its progress log."""

import concurrent.futures
import sys
import threading
import time


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Deadline:
    """The one clock every loop of the run checks."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def passed(self) -> bool:
        return self.left() <= 0

    def cancel(self) -> None:
        self.end = time.monotonic()


def run_threads(workers: list, cycles: int, deadline: Deadline) -> int:
    """Each callable does one cycle; one thread per callable takes cycles
    until `cycles` are done or the deadline passes. Returns cycles done."""
    lock = threading.Lock()
    state = {"left": cycles, "done": 0}

    def loop(one):
        while not deadline.passed():
            with lock:
                if state["left"] == 0:
                    return
                state["left"] -= 1
            one()
            with lock:
                state["done"] += 1

    with concurrent.futures.ThreadPoolExecutor(len(workers)) as ex:
        for f in [ex.submit(loop, w) for w in workers]:
            f.result()
    return state["done"]
