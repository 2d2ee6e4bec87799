"""An instance's security groups replaced over the API of a real deployment
(fake hypervisor, real bus and database): the task that applies them ends
done with its steps, and the instance shows its new groups. Also the
API's version, which clients read first."""

import pytest
from conftest import first_image

from arame.sdk.errors import ArameError

pytestmark = pytest.mark.functional


@pytest.fixture(scope="module")
def client(shared_deployment):
    c = shared_deployment.client()
    yield c
    c.close()


def test_the_version_names_the_features(client):
    v = client.version()
    assert v["api_version"].startswith("1.")
    assert {"image_delete", "instance_security_groups"} <= set(v["features"])


def test_new_groups_are_applied_on_the_instances_host(
    client, shared_deployment
):
    web = client.security_groups.create(
        "web", rules_text="tcp:80,80,ip4:0.0.0.0/0"
    )
    db = client.security_groups.create(
        "db", rules_text=f"tcp:3306,3306,{web['id']}"
    )
    inst = client.instances.create(
        name="sg-app",
        flavor="small",
        image=first_image(client),
        security_groups=[web["id"]],
    )
    assert client.tasks.wait(inst["task_id"], timeout=60)["status"] == "done"
    host = client.instances.get(inst["id"])["host"]

    # By name as well as by id, in the order given.
    r = client.instances.set_security_groups(inst["id"], ["db", web["id"]])
    assert r["security_groups"] == [db["id"], web["id"]]
    task = client.tasks.wait(r["task_id"], timeout=60)
    assert task["status"] == "done", task
    assert (task["resource_type"], task["action"]) == (
        "instance",
        "update_security_groups",
    )
    assert [(e["step"], e["status"], e["host"]) for e in task["events"]] == [
        ("apply", "done", host),
        ("members", "done", None),
    ]
    shown = client.instances.get(inst["id"])
    assert shown["security_groups"] == [db["id"], web["id"]]
    assert shown["status"] == "running"

    # A group that is not the account's: 422, nothing changed.
    with pytest.raises(ArameError) as e:
        client.instances.set_security_groups(inst["id"], ["sg-00000000"])
    assert e.value.status_code == 422
    assert client.instances.get(inst["id"])["security_groups"] == [
        db["id"],
        web["id"],
    ]
    client.tasks.wait(client.instances.delete(inst["id"])["task_id"], 60)
    assert shared_deployment.logs_with_errors() == {}
