"""The bare-metal node manager: paths and bodies."""

from arame.sdk.resources.baremetal import BaremetalNodeManager

URL = "/v1/baremetal/nodes"


def test_calls(client, api):
    nodes = BaremetalNodeManager(client._session)
    node = {"id": "bm-abcd1234", "name": "n1"}
    api.add("POST", URL, (201, node))
    api.add("PATCH", f"{URL}/bm-abcd1234", (200, node))
    api.add(
        "POST", f"{URL}/bm-abcd1234/actions", (202, {**node, "task_id": "t-1"})
    )
    api.add("DELETE", f"{URL}/bm-abcd1234", (204, None))
    nodes.create(
        "n1",
        bmc_address="10.0.0.5",
        bmc_username="admin",
        bmc_password="pw",
        macs=["52:54:00:00:00:01"],
        cpus=1,
        memory_mb=512,
        disk_gb=5,
        resource_class=None,
        bma_host="bm1",
    )
    nodes.update("bm-abcd1234", cpus=2)
    nodes.manage("bm-abcd1234")
    nodes.provide("bm-abcd1234")
    nodes.maintenance("bm-abcd1234", True, "fan")
    nodes.delete("bm-abcd1234")
    created = api.bodies("POST", URL)[0]
    assert created["bma_host"] == "bm1" and "resource_class" not in created
    assert created["bmc_port"] == 623
    assert api.bodies("PATCH", f"{URL}/bm-abcd1234") == [{"cpus": 2}]
    assert api.bodies("POST", f"{URL}/bm-abcd1234/actions") == [
        {"action": "manage"},
        {"action": "provide"},
        {"action": "maintenance", "on": True, "reason": "fan"},
    ]
