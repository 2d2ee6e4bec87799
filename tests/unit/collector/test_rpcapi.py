"""The agents' questions to the collector: a call the broker dropped (sent
before the collector's queue existed) costs one short attempt, not the
whole timeout, and is asked again."""

import oslo_messaging as messaging
import pytest

from arame.collector import rpcapi


class DroppingClient:
    """Answers after `drops` calls went unanswered."""

    def __init__(self, drops: int):
        self.drops = drops
        self.timeouts: list[float] = []

    def prepare(self, timeout=None, **kw):
        self.timeouts.append(timeout)
        return self

    def call(self, ctxt, method, **kw):
        if self.drops:
            self.drops -= 1
            raise messaging.MessagingTimeout("no reply")
        return {"method": method, **kw}


@pytest.fixture
def api(monkeypatch):
    def make(drops):
        client = DroppingClient(drops)
        monkeypatch.setattr(rpcapi.rpc, "get_client", lambda *a, **k: client)
        return rpcapi.CollectorAPI(), client

    return make


def test_a_dropped_question_is_asked_again_with_short_attempts(api):
    collector, client = api(drops=2)
    answer = collector.expected_exports({}, "st1", timeout=30)
    assert answer == {"method": "expected_exports", "node": "st1"}
    assert client.timeouts == [rpcapi.ATTEMPT_TIMEOUT] * 3


def test_no_answer_within_the_timeout_raises(api, monkeypatch):
    monkeypatch.setattr(rpcapi, "ATTEMPT_TIMEOUT", 0.01)
    collector, client = api(drops=10**6)
    with pytest.raises(messaging.MessagingTimeout):
        collector.fetch_nodes({}, "bm1", timeout=0.05)
    assert len(client.timeouts) >= 2
