"""The skeleton path for real: API -> scheduler -> hva -> collector, each its
own process on RabbitMQ and MariaDB."""

import httpx
import pytest
from conftest import first_image

pytestmark = pytest.mark.functional


@pytest.fixture(scope="module")
def client(shared_deployment):
    c = shared_deployment.client()
    yield c
    c.close()


def hypervisor(client):
    return next(h for h in client.hosts.list() if h.get("hypervisor_type"))


def test_create_runs_and_records_every_step(client):
    before = hypervisor(client)
    inst = client.instances.create(
        name="web1", flavor="small", image=first_image(client)
    )
    assert inst["status"] == "pending" and inst["task_id"].startswith("t-")

    task = client.tasks.wait(inst["task_id"], timeout=60)
    assert task["status"] == "done" and task["error"] is None
    steps = [(e["step"], e["status"]) for e in task["events"]]
    # names: the shared network's reservation on the naming agent.
    assert steps == [
        ("schedule", "done"),
        ("names", "done"),
        ("spawn", "done"),
    ]
    host = before["name"]
    assert all(e["host"] == host for e in task["events"])
    assert all(
        e["duration_ms"] is not None and e["duration_ms"] >= 0
        for e in task["events"]
    )

    shown = client.instances.get(inst["id"])
    assert shown["status"] == "running" and shown["power_state"] == "running"
    assert shown["host"] == host
    after = hypervisor(client)
    assert after["vcpus_used"] == before["vcpus_used"] + 1
    assert after["memory_mb_used"] == before["memory_mb_used"] + 512


def test_a_long_poll_answers_when_the_task_ends(shared_deployment, client):
    """GET /v1/tasks/{id}?wait= held by the API and answered when the task
    changes or ends (announced by the scheduler on the bus): the end
    reaches the client in a few requests, long before a 50-second wait
    runs out, instead of a poll every few milliseconds."""
    import time

    inst = client.instances.create(
        name="lp1", flavor="small", image=first_image(client)
    )
    t0 = time.monotonic()
    requests = 0
    task = {"status": "queued"}
    while task["status"] not in ("done", "failed"):
        task = client.tasks.get(inst["task_id"], wait=50)
        requests += 1
        assert requests <= 6, task
    assert task["status"] == "done"
    assert time.monotonic() - t0 < 45
    client.tasks.wait(client.instances.delete(inst["id"])["task_id"], 60)


def test_actions_console_and_delete_free_the_claim(client):
    before = hypervisor(client)
    inst = client.instances.create(
        name="db1", flavor="medium", image=first_image(client)
    )
    client.tasks.wait(inst["task_id"], timeout=60)
    iid = inst["id"]

    for action, status in (
        ("stop", "stopped"),
        ("start", "running"),
        ("reboot", "running"),
    ):
        t = client.instances.action(iid, action)
        assert client.tasks.wait(t["task_id"], timeout=60)["status"] == "done"
        assert client.instances.get(iid)["status"] == status

    out = client.instances.console(iid)
    assert "db1 booted" in out["output"] and "rebooted" in out["output"]
    assert out["truncated"] is False

    d = client.instances.delete(iid)
    task = client.tasks.wait(d["task_id"], timeout=60)
    assert [e["step"] for e in task["events"]] == [
        "destroy",
        "unname",
        "release",
    ]
    gone = client.instances.get(iid)
    assert gone["status"] == "terminated" and gone["terminated_at"]
    assert iid not in [i["id"] for i in client.instances.list()]
    assert iid in [i["id"] for i in client.instances.list(status="terminated")]
    after = hypervisor(client)
    assert after["vcpus_used"] == before["vcpus_used"]
    assert after["memory_mb_used"] == before["memory_mb_used"]
    history = client.tasks.list(resource_id=iid)
    assert [t["action"] for t in history] == [
        "delete",
        "reboot",
        "start",
        "stop",
        "create",
    ]


def test_wrong_state_and_bad_input_are_4xx(shared_deployment, client):
    inst = client.instances.create(
        name="web-x", flavor="small", image=first_image(client)
    )
    client.tasks.wait(inst["task_id"], timeout=60)
    h = {"Authorization": f"Bearer {client.token}"}
    url = shared_deployment.api_url
    r = httpx.post(
        f"{url}/v1/instances/{inst['id']}/actions",
        headers=h,
        json={"action": "start"},
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    bad = [
        {"name": "a;rm -rf /", "flavor": "small", "image": inst["image"]},
        {"name": "a\nb", "flavor": "small", "image": inst["image"]},
        {"name": "a..b", "flavor": "small", "image": inst["image"]},
        {"name": "x" * 300, "flavor": "small", "image": inst["image"]},
        {"name": "ünïcode", "flavor": "small", "image": inst["image"]},
        {"name": "ok", "flavor": "nope", "image": inst["image"]},
        {"name": "ok", "flavor": "small", "image": "img-00000000"},
        {"name": "ok", "flavor": "small", "image": "$(reboot)"},
        {"name": "ok", "flavor": "small", "image": inst["image"], "extra": 1},
        {"name": 5, "flavor": "small", "image": inst["image"]},
    ]
    for body in bad:
        r = httpx.post(f"{url}/v1/instances", headers=h, json=body)
        assert r.status_code == 422, (body, r.text)
        err = r.json()["error"]
        assert err["code"] == "invalid" and err["message"]
    r = httpx.post(
        f"{url}/v1/instances",
        headers=h,
        content=b"{not json",
    )
    assert r.status_code == 400
    r = httpx.get(f"{url}/v1/instances/i-zzzzzzzz", headers=h)
    assert r.status_code == 404
    r = httpx.get(f"{url}/v1/instances")
    assert r.status_code == 401
    # Nothing of the above reached a scheduler: no task beyond the one build.
    names = {i["name"] for i in client.instances.list()}
    assert "ok" not in names


def test_idempotency_key_creates_once(shared_deployment, client):
    img = first_image(client)
    a = client.instances.create(
        name="idem", flavor="small", image=img, idempotency_key="key-1"
    )
    b = client.instances.create(
        name="idem", flavor="small", image=img, idempotency_key="key-1"
    )
    assert a["id"] == b["id"] and a["task_id"] == b["task_id"]
    assert [i["id"] for i in client.instances.list(name="idem")] == [a["id"]]


def test_hosts_lists_every_daemon_up(client):
    hosts = client.hosts.list()
    binaries = {s["binary"] for h in hosts for s in h["services"]}
    assert binaries >= {
        "arame-api",
        "arame-scheduler",
        "arame-collector",
        "arame-hva",
        "arame-sta",
        "arame-nsa",
        "arame-bma",
    }
    assert all(s["state"] == "up" for h in hosts for s in h["services"])
    hv = hypervisor(client)
    assert hv["state"] == "up" and hv["hypervisor_type"] == "fake"
    assert hv["heartbeat_age_s"] < 4


def test_readyz_and_metrics(shared_deployment):
    r = httpx.get(f"{shared_deployment.api_url}/readyz")
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "bus": "ok"}
    m = httpx.get(f"{shared_deployment.api_url}/metrics")
    assert "arame_api_requests_total" in m.text


def test_rpc_queues_are_durable_quorum_queues(shared_deployment):
    import json
    import subprocess

    out = subprocess.run(
        [
            "rabbitmqctl",
            "list_queues",
            "-p",
            shared_deployment.vhost,
            "name",
            "type",
            "durable",
            "--formatter",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    queues = {q["name"]: q for q in json.loads(out)}
    for name in ("scheduler", "collector", "notifications.info"):
        assert queues[name]["type"] == "quorum", queues[name]
        assert queues[name]["durable"] is True


def test_no_errors_in_daemon_logs(shared_deployment, client):
    # Runs last in this module: everything above must not have logged errors.
    assert shared_deployment.logs_with_errors() == {}
