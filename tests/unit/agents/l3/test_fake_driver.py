"""The in-memory driver keeps the real one's contract."""

import pytest

from arame.agents.l3.drivers import base
from arame.agents.l3.drivers.fake import FakeRouterDriver

from .specs import message


def test_apply_remove_routers():
    d = FakeRouterDriver()
    spec = base.parse_router(message())
    d.apply(spec)
    assert d.routers() == {"rt-abcd1234"}
    assert d.get("rt-abcd1234") == spec
    d.remove("rt-abcd1234")
    assert d.routers() == set()
    d.remove("rt-abcd1234")  # nothing there: success


def test_apply_twice_changes_nothing():
    d = FakeRouterDriver()
    d.apply(base.parse_router(message()))
    d.apply(base.parse_router(message()))
    assert d.applied == 1


def test_removed_floating_ip_is_cut():
    d = FakeRouterDriver()
    d.apply(base.parse_router(message()))
    msg = message()
    del msg["floating_ips"][0]
    d.apply(base.parse_router(msg))
    assert d.cut == [("rt-abcd1234", "203.0.113.20")]
    assert len(d.get("rt-abcd1234").floating_ips) == 1


def test_refuses_unchecked_input():
    d = FakeRouterDriver()
    with pytest.raises(TypeError):
        d.apply(message())
    with pytest.raises(base.InvalidRouter):
        d.remove("../etc")
