"""Two "hosts" (network namespaces) joined by an underlay veth, each with
its own LinuxBridgeNetworking, and the helpers the tests share.

Isolation has to be proven between hosts: on one host, two bridges are
apart whatever the VXLAN devices do.
"""

import dataclasses
import json

import netlab  # tests/integration: on sys.path as this package's root
from oslo_config import cfg

from arame.agents.hva.networking import LinuxBridgeNetworking
from arame.common import ids
from arame.common.conf import hva_networking
from tests.helpers.waiting import wait_until

UNDERLAY = {"h1": "192.0.2.1", "h2": "192.0.2.2"}
GROUP = "239.1.1.1"


@dataclasses.dataclass
class Host:
    ns: str
    underlay: str  # its end of the underlay veth
    ip: str

    def plumbing(self, **options) -> LinuxBridgeNetworking:
        """A LinuxBridgeNetworking for this host with these options."""
        conf = cfg.ConfigOpts()
        # By name, not with hva_networking.register: a registered OptGroup
        # object holds the overrides, so sharing it would share them.
        conf.register_opts(
            hva_networking.opts, group=hva_networking.group.name
        )
        conf([], default_config_files=[])
        options.setdefault("underlay_device", self.underlay)
        for name, value in options.items():
            conf.set_override(name, value, group="hva_networking")
        return LinuxBridgeNetworking(netns=self.ns, conf=conf)


def network(segment_id: int, segmentation: str = "vxlan", **extra) -> dict:
    return {
        "id": ids.generate("network"),
        "segmentation": segmentation,
        "segment_id": segment_id,
        "mtu": 1450,
        **extra,
    }


def link(ns: str, name: str) -> dict | None:
    res = netlab.run(
        "ip", "-j", "-d", "link", "show", "dev", name, netns=ns, check=False
    )
    return json.loads(res.stdout)[0] if res.returncode == 0 else None


def links(ns: str, *args: str) -> list[dict]:
    return json.loads(
        netlab.run("ip", "-j", "-d", "link", "show", *args, netns=ns).stdout
        or "[]"
    )


def listen_tcp(lab, ns: str, port: int) -> None:
    """An nc listener in `ns`, back once the port is bound."""
    lab.spawn("nc", "-lk", str(port), netns=ns)
    wait_until(
        lambda: f":{port} " in netlab.run("ss", "-Hltn", netns=ns).stdout,
        what=f"listener on {port}",
    )
