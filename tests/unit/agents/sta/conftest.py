"""Fixtures of the storage agent's unit tests: zfs and tgtadm emulated
behind the command runner, the [sta] options registered."""

import pytest

from arame.common import runner
from arame.common.conf import CONF

from .emulators import TgtEmulator, ZFSEmulator


@pytest.fixture
def sta_conf(config):
    # Until arame.common.conf lists the sta module, register it here
    # (registering the same options twice is a no-op).
    from arame.common.conf import sta

    sta.register(CONF)
    return config


@pytest.fixture
def zfs_emu(tmp_path, monkeypatch):
    emu = ZFSEmulator(str(tmp_path / "mnt"))
    monkeypatch.setattr(runner, "run", emu.run)
    return emu


@pytest.fixture
def tgt_emu(monkeypatch):
    emu = TgtEmulator()
    monkeypatch.setattr(runner, "run", emu.run)
    return emu
