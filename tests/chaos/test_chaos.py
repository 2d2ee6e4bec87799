"""Work survives the processes running it (issue 17): a burst of creates,
actions and deletes over HTTP while daemons, the broker and the database
are SIGKILLed and restarted, or while every notification arrives twice;
then every accepted request is final within a minute of the last fault,
nothing is stranded or counted twice, and the agents hold exactly what
the records say.
"""

import threading
import time

import pytest

from tests.chaos import checks, faults
from tests.chaos.deployment import SCHEDULERS
from tests.chaos.duplicator import Duplicator
from tests.chaos.load import Burst

pytestmark = pytest.mark.chaos

# Killed one after another, each while a task runs: a scheduler while one
# of its own spawns, hva while any spawns.
VICTIMS = (*SCHEDULERS, "collector", "api", "hva", "sta", "nsa")
FIRST = 5  # seconds into the burst of the first kill
EVERY = 7  # seconds from one kill to the next: spread over the burst
GAP = 3  # seconds between the broker back and the database's kill
BURST_PATIENCE = 180  # the burst's last answers (a request retries 60 s)


def _pause(seconds: float) -> None:
    # Spacing the faults out is the plan, not a wait for a condition.
    threading.Event().wait(max(0.0, seconds))


def _verdict(dep, burst, log) -> None:
    problems, rec = checks.everything(dep, burst, log)
    # Shown with -rP (or -s) when it passes: what the run did.
    print(checks.report(problems, burst, log, rec))
    assert not problems, checks.report(problems, burst, log, rec)


def test_kill_every_daemon(chaos_deployment):
    dep = chaos_deployment
    log = faults.Faults()
    burst = Burst(dep, requests=60, seconds=60).start()
    t0 = time.monotonic()
    try:
        for n, name in enumerate(VICTIMS):
            _pause(t0 + FIRST + n * EVERY - time.monotonic())
            step = "spawn" if name in (*SCHEDULERS, "hva") else None
            busy = faults.wait_work_in_flight(
                dep, step, owner=name if name in SCHEDULERS else None
            )
            note = f"{busy} task(s) running" + (f" at {step}" if step else "")
            faults.kill_and_restart(dep, name, log, note)
        burst.join(BURST_PATIENCE)
    finally:
        burst.stop()
    _verdict(dep, burst, log)


def test_kill_broker_and_database(chaos_deployment):
    dep = chaos_deployment
    log = faults.Faults()
    burst = Burst(dep, requests=40, seconds=40, seed=23).start()
    try:
        faults.wait_work_in_flight(dep, step="spawn")
        faults.kill_broker(dep.rabbit, log)
        _pause(GAP)
        faults.wait_work_in_flight(dep)
        faults.kill_database(dep.mariadb, log)
        burst.join(BURST_PATIENCE)
    finally:
        burst.stop()
    _verdict(dep, burst, log)


def test_duplicate_notifications(chaos_deployment):
    dep = chaos_deployment
    log = faults.Faults()
    dup = Duplicator(dep.rabbit, dep.vhost).start()
    burst = Burst(dep, requests=30, seconds=30, seed=5).start()
    try:
        burst.join(BURST_PATIENCE)
        problems, rec = checks.everything(dep, burst, log)
    finally:
        burst.stop()
        dup.stop()
    # Vacuous unless the copies were made: usage and heartbeats at least.
    copied = dict(dup.duplicated)
    if dup.errors:
        problems.append(f"duplicator failed: {dup.errors}")
    for event in ("service.heartbeat", "usage.open", "usage.close"):
        if not copied.get(event):
            problems.append(f"no {event} was delivered twice ({copied})")
    print(checks.report(problems, burst, log, rec), f"\ncopies: {copied}")
    assert not problems, checks.report(problems, burst, log, rec)
