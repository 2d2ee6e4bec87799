"""Arame loses its Galera writer mid-burst (issue 13): a burst of instance
boots and deletes over HTTP on a 3-node MariaDB Galera cluster behind
HAProxy, and while spawns run, SIGKILL the node HAProxy sends every
connection to. HAProxy moves to another node; the transactions in flight
(lost connections, a COMMIT whose outcome is unknown, certification
failures) are run again by the API, the schedulers and the collector;
every request ends final; nothing is lost or made twice: one instance per
boot accepted, quota usage and host usage equal to the instances, no
repair by the collector. The node, started again, rejoins (IST).
"""

import os
import time
from collections import Counter

from arame.sdk.errors import ArameError
from tests.chaos import checks, faults
from tests.chaos.load import TRANSIENT, Burst
from tests.cluster.galera_fixtures import (  # noqa: F401 (fixtures)
    galera_cluster,
    galera_deployment,
    galera_rabbit,
)
from tests.helpers.waiting import wait_until

BOOTS_AND_DELETES = {"instance.create": 70, "instance.delete": 30}
REQUESTS = 60
SECONDS = 20
FAILOVER_PATIENCE = 30
BURST_PATIENCE = 180
REJOIN_PATIENCE = 120


class CountingBurst(Burst):
    """The chaos burst (it retries a 503 as a careful client does), also
    counting every transient answer it got: what a client without
    retries would have seen."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.transient: Counter = Counter()

    def _send(self, kind, call):
        def counted():
            try:
                return call()
            except ArameError as e:
                if e.status_code in TRANSIENT:
                    with self._lock:
                        self.transient[(kind, e.status_code)] += 1
                raise

        return super()._send(kind, counted)


def _counts(dep, rec, burst) -> list[str]:
    """One instance per boot accepted, one task per request, quota usage
    and host usage equal to what the instances hold."""
    problems = []
    created = {
        a.resource_id for a in burst.accepted if a.kind == "instance.create"
    }
    if set(rec.instances) != created:
        problems.append(
            f"{len(rec.instances)} instances recorded for {len(created)} "
            f"boots accepted (extra {sorted(set(rec.instances) - created)}, "
            f"missing {sorted(created - set(rec.instances))})"
        )
    per_request = Counter(
        (t["resource_id"], t["action"]) for t in rec.tasks.values()
    )
    problems += [
        f"{n} tasks {action} for {rid}"
        for (rid, action), n in sorted(per_request.items())
        if n > 1
    ]
    # A double claim or a lost release: host usage against its instances.
    for name, used, vcpus in dep.rows(
        "SELECT h.name, h.vcpus_used, COALESCE(SUM(i.vcpus), 0) FROM hosts h "
        "LEFT JOIN instances i ON i.host = h.name AND i.claimed "
        "GROUP BY h.name, h.vcpus_used"
    ):
        if used != vcpus:
            problems.append(
                f"host {name}: vcpus_used {used}, its instances hold {vcpus}"
            )
    return problems


# What the daemons logged about the failover (printed, not asserted):
# (the log file's name starts with, the text).
MARKERS = {
    "flows stopped and resumed": ("scheduler", "it will be resumed"),
    "commits asked again and found": ("", "but the transaction had committed"),
    "commits that could not be told": ("", "cannot tell whether a COMMIT"),
    "API 503s": ("api", "database unavailable"),
    "sweeps that met the failover": ("scheduler", "sweep: database unavail"),
}


def _markers(dep) -> tuple[dict[str, int], list[str]]:
    """How many of each marker, and the lines themselves."""
    counts, lines = dict.fromkeys(MARKERS, 0), []
    for name in os.listdir(dep.log_dir):
        with open(os.path.join(dep.log_dir, name), errors="replace") as f:
            for line in f:
                for what, (prefix, text) in MARKERS.items():
                    if name.startswith(prefix) and text in line:
                        counts[what] += 1
                        lines.append(f"{name}: {line.strip()[:300]}")
    return counts, lines


def _repairs(dep) -> list[str]:
    """The collector repairs drift it finds: any repair means a write was
    lost or doubled before it."""
    out = []
    for name in os.listdir(dep.log_dir):
        with open(os.path.join(dep.log_dir, name), errors="replace") as f:
            out += [
                f"{name}: {line.strip()}"
                for line in f
                if "repaired drift" in line
            ]
    return out


def test_kill_the_galera_writer(galera_cluster, galera_deployment):
    cluster, dep = galera_cluster, galera_deployment
    t0 = time.monotonic()
    victim = cluster.writer()
    assert cluster.cluster_size() == len(cluster.nodes)

    log = faults.Faults()
    burst = CountingBurst(
        dep, requests=REQUESTS, seconds=SECONDS, mix=BOOTS_AND_DELETES
    ).start()
    try:
        busy = faults.wait_work_in_flight(dep, step="spawn")
        fault = log.begin(
            f"SIGKILL Galera writer {victim} ({busy} spawn(s) running)"
        )
        cluster.kill(victim)

        # HAProxy sends new connections to a node still in the cluster.
        def moved():
            try:
                w = cluster.writer()
            except Exception:
                return None
            return w if w != victim else None

        new_writer = wait_until(
            moved,
            FAILOVER_PATIENCE,
            f"HAProxy to leave {victim}",
            interval=0.1,
        )
        fault.back_at = time.monotonic()
        failover = fault.back_at - fault.killed_at
        burst.join(BURST_PATIENCE)
    finally:
        burst.stop()

    problems, rec = checks.everything(dep, burst, log)
    problems += _counts(dep, rec, burst)
    problems += _repairs(dep)
    # The mix makes no volume: the fake storage agent never saves a state.
    problems = [p for p in problems if not p.startswith("sta keeps no")]
    failed = Counter(
        t["error_message"]
        for t in rec.tasks.values()
        if t["status"] == "failed"
    )
    print(checks.report(problems, burst, log, rec))
    marked, lines = _markers(dep)
    print(
        f"writer {victim} -> {new_writer} in {failover:.2f} s; transient "
        f"answers the client retried: {dict(burst.transient)}; failed "
        f"tasks: {dict(failed)}; logs: {marked}"
    )
    print("\n".join(lines))
    assert not problems, checks.report(problems, burst, log, rec)

    # The node comes back from its own datadir and rejoins (IST).
    t_restart = time.monotonic()
    cluster.restart(victim)
    wait_until(
        lambda: cluster.cluster_size() == len(cluster.nodes),
        REJOIN_PATIENCE,
        f"{victim} to rejoin",
    )
    # The writer stays where it moved: no second failover on rejoin.
    assert cluster.writer() == new_writer
    print(
        f"{victim} rejoined in {time.monotonic() - t_restart:.1f} s; "
        f"test body {time.monotonic() - t0:.1f} s"
    )
