"""GET /v1/instances/{id}/metrics: asked of the instance's hypervisor
agent (a fake rpcapi here), `since` read as a time or seconds before now,
409 without a host, 503 naming the host when its agent is silent."""

import datetime as dt

import oslo_messaging as messaging
import pytest

from arame.api.routers import metrics as router
from arame.api.services import metrics as service_mod
from arame.common.db import engine, models

NOW = dt.datetime.now(dt.UTC).timestamp()
SAMPLE = {
    "at": NOW,
    "cpu_percent": 12.5,
    "memory_used_mb": 200.0,
    "memory_mb": 1024.0,
    "disk_read_bps": 1.0,
    "disk_write_bps": 2.0,
    "net_rx_bps": 3.0,
    "net_tx_bps": 4.0,
}


class MetricsHVA:
    """Stands in for hva's rpcapi: records what was asked."""

    def __init__(self, fail=None):
        self.fail = fail
        self.asked = []

    def get_metrics(self, ctxt, host, instance_id, since, timeout):
        self.asked.append((host, instance_id, since))
        if self.fail:
            raise self.fail
        return {
            "instance_id": instance_id,
            "interval": 10,
            "samples": [SAMPLE],
        }


@pytest.fixture
def hva(monkeypatch):
    fake = MetricsHVA()
    monkeypatch.setattr(router.service, "_hva", fake)
    return fake


def placed(iid, host="hv1"):
    with engine.session() as s:
        inst = s.get(models.Instance, iid)
        inst.status, inst.host, inst.claimed = "running", host, True


def test_the_samples_of_the_instances_host(client, member, create, hva):
    iid = create(member).json()["id"]
    placed(iid)
    r = client.get(f"/v1/instances/{iid}/metrics", headers=member.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["instance_id"] == iid and body["interval"] == 10
    [s] = body["samples"]
    assert dt.datetime.fromisoformat(s["at"]).timestamp() == pytest.approx(NOW)
    assert s["cpu_percent"] == 12.5 and s["net_tx_bps"] == 4.0
    assert hva.asked == [("hv1", iid, None)]


def test_since_as_seconds_before_now_or_a_time(client, member, create, hva):
    iid = create(member).json()["id"]
    placed(iid)
    url = f"/v1/instances/{iid}/metrics"
    before = dt.datetime.now(dt.UTC).timestamp()
    client.get(url, params={"since": "600"}, headers=member.headers)
    after = dt.datetime.now(dt.UTC).timestamp()
    since = hva.asked[-1][2]
    assert before - 600 <= since <= after - 600
    for given in (
        "2026-12-05T10:00:00Z",
        "2026-12-05T10:00:00+00:00",
        "2026-12-05T10:00:00",
    ):
        r = client.get(url, params={"since": given}, headers=member.headers)
        assert r.status_code == 200, r.text
        assert (
            hva.asked[-1][2]
            == dt.datetime(2026, 12, 5, 10, tzinfo=dt.UTC).timestamp()
        )


@pytest.mark.parametrize(
    "bad", ["yesterday", "-5", "nan", "inf", "2026-13-01", "1e400x"]
)
def test_a_bad_since_is_422_in_words(
    client, member, create, hva, error_of, bad
):
    iid = create(member).json()["id"]
    placed(iid)
    err = error_of(
        client.get(
            f"/v1/instances/{iid}/metrics",
            params={"since": bad},
            headers=member.headers,
        ),
        422,
    )
    assert "seconds before now" in err["message"]
    assert hva.asked == []


def test_an_instance_on_no_host_is_409(client, member, create, hva, error_of):
    iid = create(member).json()["id"]
    err = error_of(
        client.get(f"/v1/instances/{iid}/metrics", headers=member.headers),
        409,
    )
    assert "no host" in err["message"]
    assert hva.asked == []


def test_a_silent_agent_is_503_naming_its_host(
    client, member, create, monkeypatch, error_of
):
    monkeypatch.setattr(
        router.service,
        "_hva",
        MetricsHVA(messaging.MessagingTimeout("late")),
    )
    iid = create(member).json()["id"]
    placed(iid, host="hv-far")
    err = error_of(
        client.get(f"/v1/instances/{iid}/metrics", headers=member.headers),
        503,
    )
    assert "hv-far" in err["message"]


def test_a_reader_may_read_them_another_account_may_not(
    client, make_user, create, hva, error_of
):
    owner = make_user("member")
    reader = make_user("reader", account_id=owner.account_id)
    stranger = make_user("member")
    iid = create(owner).json()["id"]
    placed(iid)
    url = f"/v1/instances/{iid}/metrics"
    assert client.get(url, headers=reader.headers).status_code == 200
    error_of(client.get(url, headers=stranger.headers), 404)
    assert len(hva.asked) == 1


def test_parse_since_caps_absurd_durations():
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert service_mod.parse_since(None, now) is None
    assert service_mod.parse_since("  ", now) is None
    assert service_mod.parse_since("1e12", now).year > 2000


def test_since_copied_from_a_samples_at_excludes_it(
    client, member, create, hva
):
    """The agent's clock is finer than the microseconds an answer shows:
    the sample itself must not come back."""
    iid = create(member).json()["id"]
    placed(iid)
    url = f"/v1/instances/{iid}/metrics"
    hva_at = 1765000000.1234567
    hva.get_metrics = lambda *a, **kw: {
        "instance_id": iid,
        "interval": 10,
        "samples": [{**SAMPLE, "at": hva_at}],
    }
    [s] = client.get(url, headers=member.headers).json()["samples"]
    r = client.get(url, params={"since": s["at"]}, headers=member.headers)
    assert r.json()["samples"] == []
