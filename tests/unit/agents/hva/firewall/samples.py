"""Ports shared by the firewall's unit tests."""

from arame.agents.hva.firewall.port import Port

WEB, APP, DB = "sg-webweb01", "sg-appapp01", "sg-dbdbdb01"


def port_dict(**kw) -> dict:
    d = {
        "instance_id": "i-3k9x2m0q",
        "device": "tap-i-3k9x2m0q",
        "mac": "52:54:00:AB:cd:01",
        "ip": "10.0.0.5",
        "security_groups": [
            {
                "id": WEB,
                "rules": [
                    {
                        "protocol": "tcp",
                        "from_port": 22,
                        "to_port": 22,
                        "cidr": "0.0.0.0/0",
                    },
                    {
                        "protocol": "tcp",
                        "from_port": 8000,
                        "to_port": 8080,
                        "cidr": "10.0.0.0/8",
                    },
                    {
                        "protocol": "icmp",
                        "from_port": -1,
                        "to_port": -1,
                        "cidr": "0.0.0.0/0",
                    },
                    {
                        "protocol": "icmp",
                        "from_port": 3,
                        "to_port": 4,
                        "cidr": "192.168.1.0/24",
                    },
                ],
            },
            {
                "id": DB,
                "rules": [
                    {
                        "protocol": "tcp",
                        "from_port": 3306,
                        "to_port": 3306,
                        "group_id": APP,
                    },
                    {
                        "protocol": "udp",
                        "from_port": 53,
                        "to_port": 53,
                        "cidr": "10.1.0.0/16",
                    },
                    {
                        "protocol": "icmp",
                        "from_port": 8,
                        "to_port": -1,
                        "cidr": "0.0.0.0/0",
                    },
                ],
            },
        ],
        "group_members": {
            WEB: ["10.0.0.5", "10.0.0.6"],
            DB: ["10.0.0.5"],
            APP: ["10.0.0.9", "10.0.0.7"],
            "sg-unrelate": ["10.9.9.9"],
        },
    }
    d.update(kw)
    return d


def port(**kw) -> Port:
    return Port.from_dict(port_dict(**kw))
