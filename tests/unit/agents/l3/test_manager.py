"""The L3 agent's endpoint: a router message checked whole before the
driver runs, applied idempotently, removed without complaint when absent;
one router's changes never interleave."""

import threading

import pytest

from arame.agents.l3.drivers.base import InvalidRouter
from arame.agents.l3.drivers.fake import FakeRouterDriver
from arame.agents.l3.manager import L3Manager
from tests.helpers.waiting import wait_until

RID = "rt-abcd1234"


def router_msg(rid=RID, fips=(("203.0.113.20", "10.0.0.5"),), net="10.0.0"):
    return {
        "id": rid,
        "gateway": {
            "network": {
                "id": "nw-extern01",
                "segmentation": "flat",
                "segment_id": None,
                "mtu": 1500,
                "physical_network": "public",
            },
            "address": "203.0.113.10/24",
            "next_hop": "203.0.113.1",
        },
        "interfaces": [
            {
                "network": {
                    "id": "nw-tenant01",
                    "segmentation": "vxlan",
                    "segment_id": 1001,
                    "mtu": 1450,
                },
                "address": f"{net}.1/24",
            }
        ],
        "floating_ips": [{"address": a, "fixed_address": f} for a, f in fips],
    }


@pytest.fixture
def mgr(parsed_conf):
    return L3Manager(FakeRouterDriver())


def test_apply_makes_the_router_and_answers_a_summary(mgr):
    out = mgr.apply_router({}, router_msg())
    assert out == {
        "id": RID,
        "gateway": True,
        "interfaces": 1,
        "floating_ips": 1,
    }
    spec = mgr.driver.get(RID)
    assert [str(f.address) for f in spec.floating_ips] == ["203.0.113.20"]
    assert mgr.status({})["routers"] == [RID]
    assert mgr.inventory() == {"routers": 1}


def test_apply_is_idempotent_and_replaces_the_whole_state(mgr):
    mgr.apply_router({}, router_msg())
    mgr.apply_router({}, router_msg())
    assert mgr.driver.applied == 1
    mgr.apply_router({}, router_msg(fips=()))
    assert mgr.driver.get(RID).floating_ips == ()
    assert mgr.driver.cut == [(RID, "203.0.113.20")]


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "rt-BAD"},
        {"id": "../etc"},
        dict(
            router_msg(),
            floating_ips=[
                {"address": "198.51.100.9", "fixed_address": "10.0.0.5"}
            ],
        ),
        dict(router_msg(), interfaces="nope"),
        "not a dict",
    ],
)
def test_a_bad_message_is_refused_with_nothing_changed(mgr, bad):
    mgr.apply_router({}, router_msg())
    with pytest.raises(InvalidRouter) as e:
        mgr.apply_router({}, bad)
    assert e.value.status == 422
    assert mgr.driver.applied == 1
    assert mgr.status({})["routers"] == [RID]


def test_remove_is_idempotent_and_checks_the_id(mgr):
    mgr.apply_router({}, router_msg())
    assert mgr.remove_router({}, RID) == {"id": RID}
    assert mgr.remove_router({}, RID) == {"id": RID}
    assert mgr.status({})["routers"] == []
    with pytest.raises(InvalidRouter):
        mgr.remove_router({}, "rt-x; rm -rf /")


class BlockingDriver(FakeRouterDriver):
    """apply() of `hold` waits for `release`: shows who is inside."""

    def __init__(self):
        super().__init__()
        self.inside: list[str] = []
        self.release = threading.Event()

    def apply(self, router):
        self.inside.append(router.id)
        if router.id == RID:
            self.release.wait(10)
        super().apply(router)
        self.inside.remove(router.id)

    def remove(self, router_id):
        self.inside.append(f"remove {router_id}")
        super().remove(router_id)


def test_one_router_at_a_time_others_in_parallel(parsed_conf):
    drv = BlockingDriver()
    mgr = L3Manager(drv)
    first = threading.Thread(target=mgr.apply_router, args=({}, router_msg()))
    first.start()
    wait_until(lambda: drv.inside == [RID], 5)
    remover = threading.Thread(target=mgr.remove_router, args=({}, RID))
    remover.start()
    # Another router goes in while the first is held.
    mgr.apply_router({}, router_msg("rt-other123", net="10.1.0", fips=()))
    assert "rt-other123" in drv.routers()
    assert f"remove {RID}" not in drv.inside  # waits for the lock
    drv.release.set()
    first.join(5)
    remover.join(5)
    assert drv.routers() == {"rt-other123"}
    assert len(mgr.lock) == 0


def _pairs(mgr, rid=RID):
    spec = mgr.driver.get(rid)
    return {str(f.address): str(f.fixed_address) for f in spec.floating_ips}


def test_deltas_change_one_mapping_of_the_last_applied_spec(mgr):
    mgr.apply_router({}, router_msg())
    applied = mgr.driver.applied
    out = mgr.add_floating_ip(
        {}, RID, {"address": "203.0.113.21", "fixed_address": "10.0.0.6"}
    )
    assert out == {
        "id": RID,
        "applied": True,
        "changed": True,
        "floating_ips": 2,
    }
    assert _pairs(mgr) == {
        "203.0.113.20": "10.0.0.5",
        "203.0.113.21": "10.0.0.6",
    }
    # the spec is the one the full message would give (same order)
    full = router_msg(
        fips=(("203.0.113.20", "10.0.0.5"), ("203.0.113.21", "10.0.0.6"))
    )
    mgr.apply_router({}, full)
    assert mgr.driver.applied == applied + 1  # nothing to do
    # the same delta again changes nothing
    out = mgr.add_floating_ip(
        {}, RID, {"address": "203.0.113.21", "fixed_address": "10.0.0.6"}
    )
    assert (out["applied"], out["changed"]) == (True, False)
    out = mgr.remove_floating_ip({}, RID, "203.0.113.20")
    assert (out["applied"], out["floating_ips"]) == (True, 1)
    assert mgr.driver.cut[-1] == (RID, "203.0.113.20")
    assert mgr.remove_floating_ip({}, RID, "203.0.113.20")["changed"] is False
    assert _pairs(mgr) == {"203.0.113.21": "10.0.0.6"}


def test_a_delta_without_a_known_spec_or_valid_result_is_not_applied(mgr):
    # never applied here (the agent restarted): send the full state
    out = mgr.add_floating_ip(
        {}, RID, {"address": "203.0.113.21", "fixed_address": "10.0.0.6"}
    )
    assert out == {"id": RID, "applied": False, "reason": "unknown"}
    assert mgr.driver.get(RID) is None
    mgr.apply_router({}, router_msg())
    # a fixed address in no attached network, or mapped twice
    for fixed in ("10.9.0.6", "10.0.0.5"):
        out = mgr.add_floating_ip(
            {}, RID, {"address": "203.0.113.21", "fixed_address": fixed}
        )
        assert out["applied"] is False, out
    assert _pairs(mgr) == {"203.0.113.20": "10.0.0.5"}
    with pytest.raises(InvalidRouter):
        mgr.add_floating_ip({}, RID, {"address": "203.0.113.21"})
