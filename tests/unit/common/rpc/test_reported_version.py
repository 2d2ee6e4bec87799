"""Services report the RPC API version they serve (their heartbeats'
rpc_version), which "auto" caps read; an agent from before reports none."""

import oslo_messaging as messaging
import pytest
import sqlalchemy as sa

from arame.common.rpc import version_cap


@pytest.fixture
def served(monkeypatch):
    monkeypatch.setattr(version_cap, "_served", {})
    yield
    version_cap.read_services_table(False)
    version_cap.reset()


def rows():
    from arame.common.db import engine, models

    S = models.Service
    with engine.session() as s:
        return s.execute(
            sa.select(S.host, S.topic, S.rpc_version).order_by(S.host)
        ).all()


def test_a_db_heartbeat_reports_its_servers_version(db, bus, served):
    from arame.common import rpc
    from arame.common.db.services import DBHeartbeat

    beat = DBHeartbeat("arame-scheduler", "scheduler")

    class Manager:
        target = messaging.Target(version="1.5")

    rpc.get_server("scheduler", "sch1", [Manager()])  # made after it
    beat.beat()
    [(_, topic, version)] = rows()
    assert (topic, version) == ("scheduler", "1.5")


def test_the_collector_records_an_agents_version(db, served):
    from arame.collector.observations import record_heartbeat
    from arame.common.db import engine

    def beat(host, **extra):
        payload = {
            "host": host,
            "binary": "arame-hva",
            "topic": "hva",
            "version": "0.1.0",
            **extra,
        }
        with engine.session() as s:
            record_heartbeat(s, payload)

    beat("hv1", rpc_version="1.3")
    beat("hv2")  # an agent from before versions were reported
    beat("hv3", rpc_version="1.4; DROP")
    assert [tuple(r) for r in rows()] == [
        ("hv1", "hva", "1.3"),
        ("hv2", "hva", None),
        ("hv3", "hva", None),
    ]
    version_cap.read_services_table()
    assert version_cap.choose("hva", "1.4") == "1.3"


def test_an_agents_heartbeat_carries_its_version(parsed_conf, bus, served):
    from arame.common.heartbeat import NotifyHeartbeat

    sent = []
    hb = NotifyHeartbeat("arame-l3", "l3")
    hb.notifier = type(
        "N", (), {"info": lambda self, c, e, p: sent.append(p)}
    )()
    hb.beat()
    version_cap.serve(
        "l3", [type("M", (), {"target": messaging.Target(version="1.1")})()]
    )
    hb.beat()
    assert [p["rpc_version"] for p in sent] == [None, "1.1"]
