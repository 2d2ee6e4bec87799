"""The agent's periodic export check: it asks the controller only when
tgtd lost a target it made, or when no resync has succeeded yet."""

import pytest

from arame.agents.sta import service
from arame.agents.sta.backends.fake import FakeBackend
from arame.agents.sta.manager import STAManager
from arame.agents.sta.targets.fake import FakeTarget

CTXT = {}
PW = "Secret-pass-0001"
VOLS = ("vol-chk00001", "vol-chk00002")


class Collector:
    def __init__(self, exports):
        self.exports = exports
        self.calls = []
        self.fail = 0

    def expected_exports(self, ctxt, node, timeout):
        self.calls.append((node, timeout))
        if self.fail:
            self.fail -= 1
            raise TimeoutError("no answer")
        return {"exports": self.exports}


@pytest.fixture
def agent(tmp_path):
    mgr = STAManager(
        FakeBackend(),
        FakeTarget(),
        max_volume_gb=10,
        import_dirs=[str(tmp_path)],
    )
    exports = []
    for v in VOLS:
        mgr.create_volume(CTXT, {"id": v, "size_gb": 1})
        e = {
            "volume_id": v,
            "initiator_address": "10.0.0.5",
            "chap_user": "u-" + v,
            "chap_secret": PW,
        }
        exports.append({**e, "iqn": mgr.iscsi.iqn(v)})
    return mgr, Collector(exports)


def fetch(collector):
    return lambda: collector.expected_exports(CTXT, "st1", 5)


def test_start_up_resync_then_quiet_until_tgtd_loses_targets(agent):
    mgr, collector = agent
    first = mgr.check_exports(fetch(collector))
    assert first["restored"] == list(VOLS)  # tgtd held nothing
    assert mgr.check_exports(fetch(collector)) is None
    assert len(collector.calls) == 1

    mgr.iscsi.restart()
    assert mgr.check_exports(fetch(collector))["restored"] == list(VOLS)
    assert len(collector.calls) == 2
    assert mgr.iscsi.login(VOLS[0], "10.0.0.5", "u-" + VOLS[0], PW)


def test_collector_down_means_try_again_next_round(agent):
    mgr, collector = agent
    collector.fail = 2
    assert mgr.check_exports(fetch(collector)) is None
    assert mgr.check_exports(fetch(collector)) is None
    assert mgr.check_exports(fetch(collector))["restored"] == list(VOLS)
    assert mgr.check_exports(fetch(collector)) is None
    assert len(collector.calls) == 3


def test_an_unexport_is_not_taken_for_a_loss(agent):
    mgr, collector = agent
    mgr.check_exports(fetch(collector))
    mgr.unexport_volume(CTXT, VOLS[0])
    assert mgr.check_exports(fetch(collector)) is None
    mgr.delete_volume(CTXT, VOLS[1])
    assert mgr.check_exports(fetch(collector)) is None
    assert len(collector.calls) == 1


def test_tgtd_not_answering_forces_a_resync_when_it_is_back(
    agent, monkeypatch
):
    mgr, collector = agent
    mgr.check_exports(fetch(collector))

    def down():
        raise OSError("tgtd not answering")

    monkeypatch.setattr(mgr.iscsi, "list_exports", down)
    assert mgr.check_exports(fetch(collector)) is None
    monkeypatch.undo()
    assert mgr.check_exports(fetch(collector))["unchanged"] == list(VOLS)
    assert len(collector.calls) == 2


def test_the_keeper_component_asks_the_collector_for_this_host(
    sta_conf, agent
):
    mgr, collector = agent
    sta_conf("host", "st7")
    sta_conf("expected_exports_timeout", 7.0, group="sta")
    keeper = service.export_keeper(mgr, collector=collector)
    assert keeper.interval() == 10.0
    keeper.func()
    assert collector.calls == [("st7", 7.0)]


def test_a_bad_record_does_not_keep_the_others_down(agent):
    mgr, collector = agent
    collector.exports = [
        {**collector.exports[0], "chap_secret": "short"},
        "not a mapping",
        collector.exports[1],
    ]
    result = mgr.check_exports(fetch(collector))
    assert result["restored"] == [VOLS[1]]
    assert mgr.check_exports(fetch(collector)) is None


def test_the_check_is_not_callable_over_the_bus(agent):
    from arame.agents.sta.manager import RPCEndpoint

    endpoint = RPCEndpoint(agent[0])
    assert not hasattr(endpoint, "check_exports")
    assert callable(endpoint.rebuild_exports)
