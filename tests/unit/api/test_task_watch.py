"""The waiters of one API process: woken by an announced end, including
an end announced between the request's read and its registering."""

import asyncio
import time

from arame.api.task_watch import endpoint, waiters


def _run(coro):
    """asyncio.run in a thread of its own: in a whole-suite run an event
    loop may already run in this one (Playwright's sync API leaves one)."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _task(status="running"):
    return {
        "id": "t-aaaaaaaa",
        "status": status,
        "step": "spawn",
        "updated_at": "x",
    }


def test_an_end_announced_before_the_wait_began_wakes_it_at_once():
    w = waiters.Waiters(recheck_interval=60)
    try:
        endpoint.TaskWatchEndpoint(w).task_ended({}, "t-aaaaaaaa", "done")
        t0 = time.monotonic()
        _run(w.wait(_task(), timeout=20))
        assert time.monotonic() - t0 < 5
    finally:
        w.stop()


def test_an_end_announced_during_the_wait_wakes_it():
    w = waiters.Waiters(recheck_interval=60)

    async def scenario():
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, w.ended, "t-aaaaaaaa")
        t0 = time.monotonic()
        await w.wait(_task(), timeout=20)
        return time.monotonic() - t0

    try:
        assert _run(scenario()) < 5
    finally:
        w.stop()


def test_another_tasks_end_does_not_wake_it():
    w = waiters.Waiters(recheck_interval=60)

    async def scenario():
        loop = asyncio.get_running_loop()
        loop.call_later(0.1, w.ended, "t-bbbbbbbb")
        t0 = time.monotonic()
        await w.wait(_task(), timeout=0.6)
        return time.monotonic() - t0

    try:
        assert _run(scenario()) >= 0.5
    finally:
        w.stop()
