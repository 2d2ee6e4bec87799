"""Router messages for the driver tests (the RPC form of the contract)."""

import copy

EXT = {
    "id": "nw-ext00001",
    "segmentation": "flat",
    "segment_id": None,
    "mtu": 1500,
    "physical_network": "public",
}


def tenant(n: int, cidr_net: str = "10.0.{n}") -> dict:
    return {
        "network": {
            "id": f"nw-ten0000{n}",
            "segmentation": "vxlan",
            "segment_id": 1000 + n,
            "mtu": 1450,
        },
        "address": cidr_net.format(n=n) + ".1/24",
    }


def message(**changes) -> dict:
    msg = {
        "id": "rt-abcd1234",
        "gateway": {
            "network": dict(EXT),
            "address": "203.0.113.10/24",
            "next_hop": "203.0.113.1",
        },
        "interfaces": [tenant(0), tenant(1)],
        "floating_ips": [
            {"address": "203.0.113.20", "fixed_address": "10.0.0.5"},
            {"address": "203.0.113.21", "fixed_address": "10.0.1.5"},
        ],
    }
    msg.update(copy.deepcopy(changes))
    return msg
