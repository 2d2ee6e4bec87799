"""bma's typed message (issue 13): the node the controller builds from
its record (BaremetalNode.bmc_message, the password unsealed) is what the
manager takes. Fully annotated: mypy checks it (pyproject.toml)."""

from pathlib import Path
from typing import Any

from arame.agents.bma import messages
from arame.agents.bma.drivers.fake import FakeHardware
from arame.agents.bma.manager import BMAManager
from arame.agents.bma.power import Timing
from arame.common import secretbox
from arame.common.db import models

FAST = Timing(state_timeout=1.0, poll_interval=0.01, soft_off_timeout=0.1)


class Notifier:
    def info(self, *a: Any) -> None:
        pass


def test_the_node_the_record_builds_reaches_the_manager(
    config: Any, tmp_path: Path
) -> None:
    config("credential_key_file", str(tmp_path / "credential.key"))
    row = models.BaremetalNode(
        id="bm-aaaa0001",
        bmc_address="192.0.2.10",
        bmc_port=623,
        bmc_username="admin",
        bmc_password=secretbox.seal("s3cret-pw"),
        bmc_interface="lanplus",
    )
    node: messages.Node = row.bmc_message()
    keys = set(messages.Node.__required_keys__)
    assert keys <= set(node) <= keys | set(messages.Node.__optional_keys__)
    assert node["bmc_password"] == "s3cret-pw"
    mgr = BMAManager(FakeHardware(lag=1), FAST, notifier=Notifier(), host="b")
    assert mgr.validate({}, node)["power_state"] == "off"
    assert mgr.power_on({}, node)["power_state"] == "on"
