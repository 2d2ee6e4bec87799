"""Resync: the controller's answer is exactly the routers the host ends up
holding; an unreachable controller changes nothing; a router applied
while the answer travels is not taken for stale."""

from arame.agents.l3.drivers.fake import FakeRouterDriver
from arame.agents.l3.manager import L3Manager
from arame.agents.l3.resync import Resync
from arame.agents.l3.service import RouterService

from .test_manager import RID, router_msg

OTHER = "rt-other123"
STALE = "rt-stale123"


def test_applies_expected_and_removes_the_rest(parsed_conf):
    mgr = L3Manager(FakeRouterDriver())
    mgr.apply_router({}, router_msg(STALE, net="10.9.0", fips=()))
    mgr.apply_router({}, router_msg())  # to be changed
    expected = {
        RID: router_msg(fips=()),
        OTHER: router_msg(OTHER, net="10.1.0", fips=()),
    }
    out = Resync(mgr, lambda: expected).run_once()
    assert out == {
        "applied": [RID, OTHER],
        "removed": [STALE],
        "failed": {},
        "newer": [],
    }
    assert mgr.driver.routers() == {RID, OTHER}
    assert mgr.driver.get(RID).floating_ips == ()


def test_unreachable_controller_keeps_everything(parsed_conf):
    mgr = L3Manager(FakeRouterDriver())
    mgr.apply_router({}, router_msg())

    def fetch():
        raise TimeoutError("no collector")

    out = Resync(mgr, fetch).run_once()
    assert out["failed"] == {"*": "no collector"}
    assert mgr.driver.routers() == {RID}


def test_one_bad_router_does_not_stop_the_others(parsed_conf):
    mgr = L3Manager(FakeRouterDriver())
    bad = dict(router_msg(OTHER), interfaces="nope")
    out = Resync(mgr, lambda: {OTHER: bad, RID: router_msg()}).run_once()
    assert out["applied"] == [RID]
    assert list(out["failed"]) == [OTHER]
    assert mgr.driver.routers() == {RID}


def test_a_router_applied_during_the_question_stays(parsed_conf):
    mgr = L3Manager(FakeRouterDriver())

    def fetch():
        # A flow applies a new router while the collector answers
        # without it.
        mgr.apply_router({}, router_msg())
        return {}

    out = Resync(mgr, fetch).run_once()
    assert (out["removed"], out["newer"]) == ([], [])
    assert mgr.driver.routers() == {RID}
    # The next round, with the router still not expected, removes it.
    assert Resync(mgr, dict).run_once()["removed"] == [RID]


def test_an_answer_older_than_a_flows_apply_is_not_applied(parsed_conf):
    """The collector answered with the floating IP still mapped; a flow
    then applied the router without it: the resync keeps the flow's."""
    mgr = L3Manager(FakeRouterDriver())
    mgr.apply_router({}, router_msg())
    mgr.apply_router({}, router_msg(OTHER, net="10.1.0", fips=()))

    def fetch():
        stale = {RID: router_msg()}  # read before the flow's change
        mgr.apply_router({}, router_msg(fips=()))  # the flow
        mgr.remove_router({}, OTHER)  # another flow: deleted
        mgr.apply_router({}, router_msg(STALE, net="10.9.0", fips=()))
        return stale

    out = Resync(mgr, fetch).run_once()
    assert out == {
        "applied": [],
        "removed": [],
        "failed": {},
        "newer": [RID, OTHER],
    }
    assert mgr.driver.get(RID).floating_ips == ()
    assert mgr.driver.routers() == {RID, STALE}
    # The next round's answer is newer than every change: applied.
    out = Resync(mgr, lambda: {RID: router_msg()}).run_once()
    assert (out["applied"], out["removed"]) == ([RID], [STALE])
    assert len(mgr.driver.get(RID).floating_ips) == 1
    assert mgr._changed.keys() <= {RID, STALE}


def test_service_resyncs_at_start_and_stops(config):
    config("resync_interval", 0, group="l3")
    mgr = L3Manager(FakeRouterDriver())
    svc = RouterService(mgr, lambda: {RID: router_msg()})
    svc.start()
    svc.stop()
    assert mgr.driver.routers() == {RID}


def test_the_daemon_builds_the_configured_driver(config):
    from arame.agents.l3 import service
    from arame.agents.l3.drivers.netns import NetnsRouterDriver

    assert isinstance(service.load_driver(), FakeRouterDriver)
    config("driver", "netns", group="l3")
    config("netns", "l3test-lab", group="l3")
    config("physical_networks", {"public": "l3t-ext0"}, group="l3")
    drv = service.load_driver()
    assert isinstance(drv, NetnsRouterDriver)
    assert (drv.netns, drv.physical_networks) == (
        "l3test-lab",
        {"public": "l3t-ext0"},
    )
