"""nsa's typed messages (issue 13): the network the controller builds
from its record, and a bare-metal node's reservation with the iPXE script
that logs in with the root volume's chap_user / chap_secret, are what the
manager takes. Fully annotated: mypy checks it (pyproject.toml)."""

from typing import Any

from arame.agents.nsa import messages
from arame.agents.nsa.manager import NSAManager
from arame.agents.sta.rpcapi import EXPORT_LUN
from arame.common import naming, pxe
from arame.common.db import models

NET_ID = "nw-abcd1234"


def _keys(td: Any) -> set[str]:
    return set(td.__required_keys__) | set(td.__optional_keys__)


def test_the_network_and_a_pxe_reservation_reach_the_manager(
    parsed_conf: Any,
) -> None:
    net = models.Network(
        id=NET_ID,
        cidr="10.20.0.0/24",
        gateway="10.20.0.1",
        dns_domain="tenant.test",
        dhcp_ranges=[["10.20.0.10", "10.20.0.200"]],
        mtu=1450,
        segmentation="vxlan",
        segment_id=1001,
    )
    spec: messages.NetworkSpec = naming.network_message(net)
    assert set(spec) <= _keys(messages.NetworkSpec)
    assert set(spec) >= set(messages.NetworkSpec.__required_keys__)
    script = pxe.sanboot_script(
        portal="10.20.0.1:3260",
        iqn="iqn.2025-01.org.arame:vol-abcd0001",
        lun=EXPORT_LUN,
        chap_user="arame-abcd0001",
        chap_secret="0123456789abcdef01234567",
    )
    node: messages.Reservation = {
        "mac": "52:54:00:00:00:01",
        "ip": "10.20.0.11",
        "hostname": "node1",
        "boot_script": script,
    }
    mgr = NSAManager()
    mgr.ensure_network({}, spec)
    assert mgr.sync({}, spec, [node])["written"] == 1
    (got,) = mgr.driver.reservations(NET_ID)
    assert got.to_message() == node
