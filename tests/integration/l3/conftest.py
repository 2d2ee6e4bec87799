"""Fixtures: a world (network host, outside, the driver) per test.

Everything carries the run's prefix and is removed at the end, also after
a failure: the routers through the driver, then any namespace left by
their names, then the lab's namespaces and processes.
"""

import shutil

import netlab
import pytest

from .world import close_world, make_world

TOOLS = ("ip", "nft", "conntrack", "nc", "busybox", "sysctl", "nsenter")


@pytest.fixture
def world():
    missing = [t for t in TOOLS if shutil.which(t) is None]
    assert not missing, f"missing tools: {missing}"
    with netlab.lab() as lab:
        w = make_world(lab)
        try:
            yield w
        finally:
            close_world(w)
