"""l3's typed messages (issue 13): a router as the controller sends it
(arame.common.routing.router_message's shape, typed) is what the manager
applies, and a floating IP delta too. Fully annotated: mypy checks the
literal against the types (pyproject.toml)."""

from typing import Any

from arame.agents.l3 import messages
from arame.agents.l3.drivers.fake import FakeRouterDriver
from arame.agents.l3.manager import L3Manager

RID = "rt-abcd1234"


def test_a_typed_router_and_a_floating_ip_reach_the_manager(
    parsed_conf: Any,
) -> None:
    router: messages.Router = {
        "id": RID,
        "gateway": {
            "network": {
                "id": "nw-extern01",
                "segmentation": "flat",
                "segment_id": None,
                "mtu": 1500,
                "physical_network": "public",
            },
            "address": "203.0.113.10/24",
            "next_hop": "203.0.113.1",
        },
        "interfaces": [
            {
                "network": {
                    "id": "nw-tenant01",
                    "segmentation": "vxlan",
                    "segment_id": 1001,
                    "mtu": 1450,
                },
                "address": "10.0.0.1/24",
            }
        ],
        "floating_ips": [],
    }
    mgr = L3Manager(FakeRouterDriver())
    got = mgr.apply_router({}, router)
    assert (got["id"], got["interfaces"], got["gateway"]) == (RID, 1, True)
    fip: messages.FloatingIp = {
        "address": "203.0.113.20",
        "fixed_address": "10.0.0.5",
    }
    assert mgr.add_floating_ip({}, RID, fip)["applied"] is True
