"""Arame loses the RabbitMQ node its scheduler is connected to, mid-burst
(issue 13): a burst of instance boots and deletes over HTTP on a 3-node
cluster with quorum queues, and while spawns run, SIGKILL the node the
scheduler talks to. Every daemon reconnects to another node, every
request ends final, no instance is lost or made twice; the node, started
again, rejoins the cluster and its queues' replicas.
"""

import datetime as dt
import json
import os
import re
import time
from collections import Counter

from tests.chaos import checks, faults
from tests.chaos.deployment import SCHEDULERS
from tests.chaos.load import Burst
from tests.helpers.waiting import wait_until

BOOTS_AND_DELETES = {"instance.create": 70, "instance.delete": 30}
REQUESTS = 40
SECONDS = 20
RECONNECT_PATIENCE = 60
LOST_CAST_GRACE = 10  # [scheduler] lost_cast_grace's default
# What the daemons' logs say about the failover (oslo.messaging's rabbit
# driver, the sweep), counted for the report.
LOG_EVENTS = {
    "unreachable": re.compile(r"AMQP server on \S+ is unreachable"),
    "reconnected": re.compile(r"Reconnected to AMQP server"),
    "publish failed": re.compile(r"Failed to publish message"),
    "notification dropped": re.compile(r"Could not send notification"),
    "call timed out": re.compile(r"MessagingTimeout|Timed out waiting"),
    "task adopted": re.compile(r"adopted task "),
}
BURST_PATIENCE = 180


def _queues(cluster, vhost: str, on: str) -> list[dict]:
    out = cluster.node(on).ctl(
        "list_queues",
        "-p",
        vhost,
        "name",
        "type",
        "members",
        "online",
        "leader",
        "--formatter",
        "json",
    )
    return json.loads(out.stdout)


def _connections(cluster, dep) -> dict[str, dict[str, int]]:
    """{daemon: {node: connections}} of every daemon of the deployment."""
    return {
        name: cluster.nodes_of_process(d.pid)
        for name, d in dep.daemons.items()
    }


def _counts(dep, rec, burst) -> list[str]:
    """Nothing lost, nothing twice: one instance per boot accepted, each
    running or, if a delete was asked, terminated; one task per request."""
    problems = []
    created = {
        a.resource_id for a in burst.accepted if a.kind == "instance.create"
    }
    deleted = {
        a.resource_id for a in burst.accepted if a.kind == "instance.delete"
    }
    if set(rec.instances) != created:
        problems.append(
            f"{len(rec.instances)} instances recorded for {len(created)} "
            f"boots accepted (extra {sorted(set(rec.instances) - created)}, "
            f"missing {sorted(created - set(rec.instances))})"
        )
    for iid, inst in sorted(rec.instances.items()):
        want = "terminated" if iid in deleted else "running"
        if inst["status"] != want:
            problems.append(
                f"instance {iid} is {inst['status']}, not {want} "
                f"({inst.get('status_reason') or 'no reason'})"
            )
    per_request = Counter(
        (t["resource_id"], t["action"]) for t in rec.tasks.values()
    )
    problems += [
        f"{n} tasks {action} for {rid}"
        for (rid, action), n in sorted(per_request.items())
        if n > 1
    ]
    return problems


def _recovery(dep) -> tuple[dict, dict]:
    """What the failover cost: tasks the sweep began (their cast was lost
    or came later than lost_cast_grace) or adopted, and the log events."""
    late = adopted = 0
    for _tid, attempts, waited in dep.rows(
        "SELECT t.id, t.attempts, "
        "TIMESTAMPDIFF(MICROSECOND, t.created_at, MIN(e.at)) / 1e6 "
        "FROM tasks t LEFT JOIN task_events e ON e.task_id = t.id "
        "GROUP BY t.id, t.attempts, t.created_at"
    ):
        late += waited is not None and waited >= LOST_CAST_GRACE
        adopted += attempts > 1
    events: dict[str, Counter] = {}
    for name in sorted(os.listdir(dep.log_dir)):
        with open(os.path.join(dep.log_dir, name), errors="replace") as f:
            text = f.read()
        for what, pattern in LOG_EVENTS.items():
            n = len(pattern.findall(text))
            if n:
                events.setdefault(what, Counter())[name[:-4]] += n
    return {"begun by the sweep": late, "adopted": adopted}, {
        k: dict(v) for k, v in events.items()
    }


def test_kill_the_schedulers_rabbitmq_node(rabbit_cluster, cluster_deployment):
    cluster, dep = rabbit_cluster, cluster_deployment
    t0 = time.monotonic()
    scheduler = dep.daemons[SCHEDULERS[0]]
    victim = cluster.node_of_connection(scheduler.pid)
    assert victim is not None, f"{SCHEDULERS[0]} holds no AMQP connection"
    survivors = [n for n in cluster.nodes if n != victim]

    # Replicated on every node: the scheduler's queue is a quorum queue
    # whose members are the whole cluster (no initial group size given).
    queues = {q["name"]: q for q in _queues(cluster, dep.vhost, victim)}
    assert queues["scheduler"]["type"] == "quorum", queues["scheduler"]
    assert sorted(queues["scheduler"]["members"]) == sorted(cluster.nodes)
    print(f"scheduler queue's leader: {queues['scheduler']['leader']}")

    log = faults.Faults()
    burst = Burst(
        dep, requests=REQUESTS, seconds=SECONDS, mix=BOOTS_AND_DELETES
    ).start()
    try:
        busy = faults.wait_work_in_flight(dep, step="spawn")
        before = _connections(cluster, dep)
        fault = log.begin(
            f"SIGKILL RabbitMQ node {victim} ({SCHEDULERS[0]}'s; "
            f"{busy} spawn(s) running)"
        )
        killed_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        cluster.kill(victim)

        # Every daemon is back on the bus, on the nodes left.
        def reconnected():
            # Those that held a connection: each holds one again, and
            # none to the dead node.
            now = _connections(cluster, dep)
            back = all(
                now[name] and victim not in now[name]
                for name, held in before.items()
                if held
            )
            return now if back else None

        after = wait_until(
            reconnected,
            RECONNECT_PATIENCE,
            f"every daemon to leave {victim} for another node",
            interval=0.5,
        )
        fault.back_at = time.monotonic()
        burst.join(BURST_PATIENCE)
    finally:
        burst.stop()

    problems, rec = checks.everything(dep, burst, log)
    if not rec.volumes:
        # Boots from images only: sta was asked nothing, wrote nothing.
        problems = [p for p in problems if not p.startswith("sta keeps no")]
    problems += _counts(dep, rec, burst)
    failed = Counter(
        t["error_message"]
        for t in rec.tasks.values()
        if t["status"] == "failed"
    )
    print(checks.report(problems, burst, log, rec))
    print(f"connections before the kill: {before}\nafter: {after}")
    print(f"failed tasks: {dict(failed)}")
    tasks, events = _recovery(dep)
    print(f"tasks recovered: {tasks}\nlog events: {events}")
    # The scheduler whose node died took work again, on another node.
    owner = f"{SCHEDULERS[0]}:%"
    worked = dep.rows(
        "SELECT COUNT(*) FROM tasks WHERE owner LIKE :owner "
        "AND created_at > :killed AND status = 'done'",
        owner=owner,
        killed=killed_at,
    )[0][0]
    print(f"{SCHEDULERS[0]} ran {worked} task(s) begun after the kill")
    if not worked:
        problems.append(f"{SCHEDULERS[0]} ran no task after the kill")
    # Reply queues too (rabbit_transient_quorum_queue): a call in flight
    # keeps its reply queue when the node holding it dies.
    replies = [
        q
        for q in _queues(cluster, dep.vhost, survivors[0])
        if q["name"].startswith("reply_")
    ]
    if not replies:
        problems.append("no reply queue: the calls went unchecked")
    problems += [
        f"reply queue {q['name']} is {q['type']}"
        for q in replies
        if q["type"] != "quorum"
    ]
    assert not problems, checks.report(problems, burst, log, rec)

    # The node comes back from its own data and its queues' replicas
    # catch up: every quorum queue has all three members online.
    t_restart = time.monotonic()
    cluster.restart(victim)
    assert cluster.running_nodes() == set(cluster.nodes)

    def replicas_online():
        qs = _queues(cluster, dep.vhost, survivors[0])
        return all(
            sorted(q["online"]) == sorted(cluster.nodes)
            for q in qs
            if q["type"] == "quorum"
        )

    wait_until(
        replicas_online,
        60,
        f"{victim}'s quorum queue replicas online again",
        interval=1.0,
    )
    print(
        f"{victim} rejoined in {time.monotonic() - t_restart:.1f} s; "
        f"test body {time.monotonic() - t0:.1f} s"
    )
