"""Create an instance with the SDK, follow its task, delete it.

Run against an Arame endpoint (the all-in-one will do):
    export ARAME_URL=http://127.0.0.1:9001 ARAME_PASSWORD=admin
    python3 sdk_instance.py
"""

import os

from arame.sdk import Client

with Client(os.environ["ARAME_URL"]) as client:
    client.login("admin", os.environ["ARAME_PASSWORD"])

    # Flavors are named; images are referred to by id.
    image = next(i for i in client.images.list() if i["status"] == "available")
    accepted = client.instances.create(
        "web1", flavor="small", image=image["id"]
    )
    print("accepted:", accepted["status"])

    # Every change is a task: wait for it, then look at its steps.
    task = client.tasks.wait(accepted["task_id"], timeout=60)
    print("task:", task["status"])
    print("steps:", ", ".join(event["step"] for event in task["events"]))

    server = client.instances.get(accepted["id"])
    print("instance:", server["name"], server["status"])

    gone = client.instances.delete(server["id"])
    client.tasks.wait(gone["task_id"], timeout=60)
    print("after delete:", client.instances.get(server["id"])["status"])
