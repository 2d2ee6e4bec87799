"""Fixtures of the bare-metal agent's unit tests: the [bma] options, an
ipmitool stand-in behind the command runner, checked nodes."""

import pytest

from arame.agents.bma.drivers.base import BMC
from arame.common import runner
from arame.common.conf import CONF

from .emulator import IpmitoolEmulator

PASSWORD = "s3cret-pw"


def node_dict(**kw) -> dict:
    node = {
        "id": "bm-aaaa0001",
        "bmc_address": "192.0.2.10",
        "bmc_port": 623,
        "bmc_username": "admin",
        "bmc_password": PASSWORD,
    }
    node.update(kw)
    return node


@pytest.fixture
def bma_conf(config):
    # Until arame.common.conf lists the bma module, register it here
    # (registering the same options twice is a no-op).
    from arame.common.conf import bma

    bma.register(CONF)
    return config


@pytest.fixture
def ipmitool_emu(monkeypatch):
    emu = IpmitoolEmulator(PASSWORD)
    monkeypatch.setattr(runner, "run", emu.run)
    return emu


@pytest.fixture
def bmc() -> BMC:
    return BMC("bm-aaaa0001", "192.0.2.10", 623, "admin", PASSWORD)
