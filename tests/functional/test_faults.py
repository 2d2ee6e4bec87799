"""Failures end in a final state with the step and the reason; nothing stays
in a transitional state past its deadline, nothing is double-allocated."""

import concurrent.futures
import os
import signal
import time

import pytest
from conftest import first_image

from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.functional

TRANSITIONAL = {
    "pending",
    "scheduling",
    "starting",
    "stopping",
    "rebooting",
    "shuttingdown",
}


def hypervisor(client):
    return next(h for h in client.hosts.list() if h.get("hypervisor_type"))


def wait_task_end(client, task_id, timeout=60):
    return wait_until(
        lambda: (lambda t: t if t["status"] in ("done", "failed") else None)(
            client.tasks.get(task_id)
        ),
        timeout,
        f"task {task_id} to end",
    )


def test_spawn_failure_and_no_valid_host(make_deployment):
    # No vCPU quota: the huge flavor below must reach the scheduler.
    dep = make_deployment(
        conf={
            "fake_hva": {"fail_spawn_pattern": "^doomed"},
            "quota": {"vcpus": -1},
        }
    )
    c = dep.client()
    img = first_image(c)

    inst = c.instances.create(name="doomed-1", flavor="small", image=img)
    task = wait_task_end(c, inst["task_id"])
    assert task["status"] == "failed"
    assert task["error"]["step"] == "spawn"
    assert "fail_spawn_pattern" in task["error"]["message"]
    assert ("undo-spawn", "done") in [
        (e["step"], e["status"]) for e in task["events"]
    ]
    shown = c.instances.get(inst["id"])
    assert shown["status"] == "error"
    assert "spawn" in shown["status_reason"]
    assert hypervisor(c)["vcpus_used"] == 0  # the claim was given back

    # A flavor no host can take: the reason names the filter.
    c._session.request(
        "POST",
        "/v1/flavors",
        json={"name": "huge", "vcpus": 1000, "memory_mb": 1024, "disk_gb": 1},
    )
    inst = c.instances.create(name="big", flavor="huge", image=img)
    task = wait_task_end(c, inst["task_id"])
    assert task["error"]["step"] == "schedule"
    assert "no valid host" in task["error"]["message"]
    assert "CoreFilter" in task["error"]["message"]
    assert c.instances.get(inst["id"])["status"] == "error"

    # Instances in error can be deleted, and end terminated.
    for i in c.instances.list():
        d = c.instances.delete(i["id"])
        assert wait_task_end(c, d["task_id"])["status"] == "done"
        assert c.instances.get(i["id"])["status"] == "terminated"


def test_killed_hva_mid_build_ends_in_error_then_cleans_up(make_deployment):
    dep = make_deployment(
        conf={
            "fake_hva": {"spawn_delay": 3},
            "scheduler": {"agent_call_timeout": 6},
        }
    )
    c = dep.client()
    img = first_image(c)
    insts = [
        c.instances.create(name=f"b{n}", flavor="small", image=img)
        for n in range(3)
    ]
    wait_until(
        lambda: all(
            c.tasks.get(i["task_id"])["step"] == "spawn" for i in insts
        ),
        30,
        "every build to reach spawn",
    )
    dep.stop("hva", sig=signal.SIGKILL)

    # Asked again while the host could be restarting; once it has missed
    # its heartbeats (service_down_time) the builds give up and say why.
    for i in insts:
        task = wait_task_end(c, i["task_id"], timeout=60)
        assert task["status"] == "failed" and task["error"]["step"] == "spawn"
        assert "is down (no heartbeat)" in task["error"]["message"]
        assert c.instances.get(i["id"])["status"] == "error"
    assert not [i for i in c.instances.list() if i["status"] in TRANSITIONAL]

    # The agent comes back; a delete removes what may be left and frees
    # every claim.
    dep.start("hva")
    wait_until(lambda: hypervisor(c)["state"] == "up", 30, "hva to report")
    for i in insts:
        d = c.instances.delete(i["id"])
        assert wait_task_end(c, d["task_id"])["status"] == "done"
    assert hypervisor(c)["vcpus_used"] == 0


def test_lost_scheduler_build_hits_its_deadline(make_deployment):
    dep = make_deployment(
        conf={"scheduler": {"build_timeout": 3}},
        roles=("collector", "hva", "api"),
    )
    c = dep.client()
    inst = c.instances.create(
        name="orphan", flavor="small", image=first_image(c)
    )
    task = wait_task_end(c, inst["task_id"], timeout=30)
    assert task["status"] == "failed"
    assert "deadline passed" in task["error"]["message"]
    shown = c.instances.get(inst["id"])
    assert shown["status"] == "error" and "deadline" in shown["status_reason"]


def test_two_schedulers_never_over_allocate(make_deployment):
    dep = make_deployment(
        conf={
            "fake_hva": {"vcpus": 4},
            "scheduler": {"cpu_allocation_ratio": 1.0},
        }
    )
    dep.start(
        "scheduler",
        name="scheduler-2",
        overlay={"DEFAULT": {"host": "sched2"}},
    )
    c = dep.client()
    img = first_image(c)

    def schedulers_up():
        return {
            h["name"]
            for h in c.hosts.list()
            for s in h["services"]
            if s["binary"] == "arame-scheduler" and s["state"] == "up"
        }

    wait_until(
        lambda: len(schedulers_up()) == 2, 60, "both schedulers to report"
    )
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        created = list(
            pool.map(
                lambda n: c.instances.create(
                    name=f"r{n}", flavor="small", image=img
                ),
                range(10),
            )
        )
    results = [wait_task_end(c, i["task_id"]) for i in created]
    done = [r for r in results if r["status"] == "done"]
    failed = [r for r in results if r["status"] == "failed"]
    assert len(done) == 4 and len(failed) == 6
    assert all(
        "no valid host" in r["error"]["message"]
        or "claimed by concurrent" in r["error"]["message"]
        for r in failed
    )
    assert hypervisor(c)["vcpus_used"] == 4
    statuses = sorted(c.instances.get(i["id"])["status"] for i in created)
    assert statuses == ["error"] * 6 + ["running"] * 4
    assert "sched2" in schedulers_up()


def test_sigterm_lets_inflight_work_finish(make_deployment):
    dep = make_deployment(conf={"fake_hva": {"spawn_delay": 2}})
    c = dep.client()
    inst = c.instances.create(
        name="graceful", flavor="small", image=first_image(c)
    )
    wait_until(
        lambda: c.tasks.get(inst["task_id"])["step"] == "spawn",
        30,
        "the build to reach spawn",
    )
    code = dep.stop("hva", sig=signal.SIGTERM, timeout=30)
    assert code == 0
    assert wait_task_end(c, inst["task_id"])["status"] == "done"
    assert c.instances.get(inst["id"])["status"] == "running"


def test_dead_agent_shows_down(make_deployment):
    dep = make_deployment()
    c = dep.client()
    assert hypervisor(c)["state"] == "up"
    dep.stop("hva")
    hv = wait_until(
        lambda: (lambda h: h if h["state"] == "down" else None)(hypervisor(c)),
        15,
        "the hypervisor to show down",
    )
    hva_svc = [s for s in hv["services"] if s["binary"] == "arame-hva"] or [
        s
        for h in c.hosts.list()
        for s in h["services"]
        if s["binary"] == "arame-hva"
    ]
    assert hva_svc[0]["state"] == "down"
    assert hv["heartbeat_age_s"] > 4


def test_rabbitmq_restart_daemons_reconnect(make_deployment, infrastructure):
    dep = make_deployment()
    c = dep.client()
    img = first_image(c)
    rabbit, _ = infrastructure
    rabbit.restart()

    # Every daemon reconnects by itself: a new instance builds end to end.
    def builds():
        try:
            i = c.instances.create(
                name="after-restart", flavor="small", image=img
            )
        except Exception:
            return None
        return wait_task_end(c, i["task_id"], timeout=60)

    task = wait_until(
        builds, 90, "a build to work after the restart", interval=2
    )
    assert task["status"] == "done"
    assert not [p for p in dep.status() if not p["alive"]]


def test_sighup_reloads_configuration(make_deployment):
    dep = make_deployment()
    c = dep.client()
    img = first_image(c)
    ok = c.instances.create(name="before-hup", flavor="small", image=img)
    assert wait_task_end(c, ok["task_id"])["status"] == "done"

    # Change hva's configuration on disk, then SIGHUP: the same process
    # (same PID) now fails spawns by the new pattern.
    hva = dep.daemons["hva"]
    with open(dep.config_path, "a") as f:
        f.write("\n[fake_hva]\nfail_spawn_pattern = ^after\n")
    os.kill(hva.pid, signal.SIGHUP)

    def reloaded():
        i = c.instances.create(name="after-hup", flavor="small", image=img)
        t = wait_task_end(c, i["task_id"])
        return t if t["status"] == "failed" else None

    task = wait_until(
        reloaded, 30, "hva to apply the reloaded option", interval=0.5
    )
    assert task["error"]["step"] == "spawn"
    assert hva.alive() and dep.daemons["hva"].pid == hva.pid


def test_many_fake_hosts_serve_and_stop_promptly(make_deployment):
    dep = make_deployment(
        conf={"fake_hva": {"host_count": 20}}, hypervisors=20
    )
    c = dep.client()
    img = first_image(c)
    # Every host that reports takes work: spread builds land on many hosts.
    made = [
        c.instances.create(name=f"spread{n}", flavor="small", image=img)
        for n in range(10)
    ]
    tasks = [wait_task_end(c, m["task_id"]) for m in made]
    assert all(t["status"] == "done" for t in tasks), tasks
    assert len({c.instances.get(m["id"])["host"] for m in made}) > 1

    t0 = time.monotonic()
    assert dep.stop("hva", sig=signal.SIGTERM, timeout=60) == 0
    # Its 20 RPC servers stop together, not one after another.
    assert time.monotonic() - t0 < 20
