"""Another service's view: a separate process binds its own queue to the
public notifications over RabbitMQ (the integration guide's example
consumer, run as it is documented) and hears an instance's create and
delete end, with payloads that validate against the committed schema,
while the collector still gets its own notifications."""

import json
import pathlib
import queue
import subprocess
import sys
import threading
import uuid

import jsonschema
import pytest
from conftest import first_image

from arame.notifications import payloads
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.functional

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONSUMER = ROOT / "doc" / "source" / "integration" / "examples" / "consumer.py"
SCHEMA = json.loads((payloads.SCHEMAS / "task_end.json").read_text())
POWER_SCHEMA = json.loads((payloads.SCHEMAS / "power_state.json").read_text())


class Consumer:
    """The example consumer in its own process; its lines, parsed."""

    def __init__(self, url: str, queue_name: str):
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(CONSUMER),
                "--url",
                url,
                "--queue",
                queue_name,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue = queue.Queue()
        self.seen: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def received(self) -> list[dict]:
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return self.seen

    def wait_for(self, what: str, cond, timeout: float = 60) -> dict:
        def found():
            assert self.proc.poll() is None, self.proc.stderr.read()
            return next((m for m in self.received() if cond(m)), None)

        return wait_until(found, timeout=timeout, what=what)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def deployment(make_deployment):
    return make_deployment(conf={"notifications": {"enabled": True}})


@pytest.fixture
def consumer(deployment):
    c = Consumer(
        deployment.rabbit.url(deployment.vhost),
        f"other-service-{uuid.uuid4().hex[:8]}",
    )
    try:
        c.wait_for("the consumer's queue bound", lambda m: m.get("ready"))
        yield c
    finally:
        c.stop()


def test_a_service_hears_create_and_delete_end(deployment, consumer):
    client = deployment.client()
    inst = client.instances.create(
        name="watched", flavor="small", image=first_image(client)
    )
    iid = inst["id"]

    def ended(event):
        return lambda m: (
            m.get("event_type") == event
            and m["payload"]["resource"]["id"] == iid
        )

    created = consumer.wait_for(
        "instance.create.end", ended("instance.create.end")
    )
    jsonschema.validate(created["payload"], SCHEMA)
    assert created["priority"] == "INFO"
    assert created["payload"]["task_id"] == inst["task_id"]
    assert created["payload"]["status"] == "done"
    # The collector still gets the agents' notifications on its own topic:
    # hva's power state reaches the record.
    wait_until(
        lambda: client.instances.get(iid)["power_state"] == "running",
        timeout=30,
        what="the collector recording the guest running",
    )
    assert client.instances.get(iid)["status"] == "running"

    task = client.instances.delete(iid)
    deleted = consumer.wait_for(
        "instance.delete.end", ended("instance.delete.end")
    )
    jsonschema.validate(deleted["payload"], SCHEMA)
    assert deleted["payload"]["task_id"] == task["task_id"]
    assert deleted["payload"]["account_id"] == created["payload"]["account_id"]

    # Once each: the consumer's queue is its own, nothing competes for it
    # and nothing is doubled.
    events = [
        m["event_type"]
        for m in consumer.received()
        if m.get("payload", {}).get("resource", {}).get("id") == iid
    ]
    assert events == ["instance.create.end", "instance.delete.end"]
    # Power states the collector recorded on the way (whether the boot
    # shows one depends on who wrote running first) are valid too.
    for m in consumer.received():
        if m.get("event_type") == "instance.power_state.update":
            jsonschema.validate(m["payload"], POWER_SCHEMA)
