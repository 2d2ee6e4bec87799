import netlab
import pytest

from .topology import UNDERLAY, Host


@pytest.fixture
def lab():
    with netlab.lab() as lb:
        yield lb


@pytest.fixture
def hosts(lab) -> dict[str, Host]:
    """h1 and h2, joined by a veth that carries 192.0.2.0/24."""
    h = {
        key: Host(lab.netns(key), lab.name(key + "u"), ip)
        for key, ip in UNDERLAY.items()
    }
    lab.veth(h["h1"].ns, h["h1"].underlay, h["h2"].ns, h["h2"].underlay)
    for host in h.values():
        netlab.run(
            "ip",
            "addr",
            "add",
            host.ip + "/24",
            "dev",
            host.underlay,
            netns=host.ns,
        )
    return h
