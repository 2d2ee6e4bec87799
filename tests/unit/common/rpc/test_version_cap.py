"""How a client's version cap is chosen ([upgrade_levels]): a pin, or on
"auto" the oldest RPC API version the running services of the kind
report; kept for a bounded time; logged once."""

import datetime as dt
import logging

import oslo_messaging as messaging
import pytest

from arame.common.rpc import version_cap

HVA_NEWEST = "1.4"


@pytest.fixture
def caps(parsed_conf):
    version_cap.reset()
    yield version_cap
    version_cap.read_services_table(False)
    version_cap.reset()


@pytest.fixture
def services(db, caps):
    """add(host, rpc_version, age=0, topic="hva"): a services row whose
    last heartbeat was `age` seconds ago."""
    from arame.common.db import engine, models

    caps.read_services_table()

    def add(host, rpc_version, age=0, topic="hva"):
        at = models.utcnow() - dt.timedelta(seconds=age)
        with engine.session() as s:
            s.add(
                models.Service(
                    host=host,
                    binary=f"arame-{topic}",
                    topic=topic,
                    version="0.1.0",
                    rpc_version=rpc_version,
                    last_heartbeat_at=at,
                )
            )

    return add


def test_a_pin_is_the_cap(caps, config):
    config("hva", "1.2", group="upgrade_levels")
    assert caps.choose("hva", HVA_NEWEST) == "1.2"


def test_a_pin_above_what_the_client_speaks_is_the_newest(caps, config):
    config("hva", "1.9", group="upgrade_levels")
    assert caps.choose("hva", HVA_NEWEST) == HVA_NEWEST


def test_a_malformed_pin_is_refused(caps, config):
    with pytest.raises(ValueError):
        config("hva", "1.x", group="upgrade_levels")


def test_a_pin_wins_over_the_services(services, caps, config):
    services("hv1", "1.2")
    config("hva", "1.3", group="upgrade_levels")
    assert caps.choose("hva", HVA_NEWEST) == "1.3"


def test_auto_is_the_oldest_running_service(services, caps):
    services("hv1", "1.4")
    services("hv2", "1.3")
    services("hv3", "1.4")
    services("st1", "1.0", topic="sta")  # another kind: not counted
    assert caps.choose("hva", HVA_NEWEST) == "1.3"


def test_auto_with_no_service_is_the_newest(services, caps):
    assert caps.choose("hva", HVA_NEWEST) == HVA_NEWEST


def test_auto_ignores_services_that_are_down(services, caps, config):
    config("service_down_time", 30)
    services("hv1", "1.4")
    services("hv2", "1.1", age=120)  # stopped for good, or long dead
    assert caps.choose("hva", HVA_NEWEST) == HVA_NEWEST


def test_a_service_reporting_no_version_counts_as_the_release_before(
    services, caps
):
    services("hv1", "1.4")
    services("st1", None, topic="sta")
    services("hv2", None)
    assert caps.choose("hva", HVA_NEWEST) == caps.UNREPORTED["hva"]
    assert caps.choose("sta", "1.2") == caps.UNREPORTED["sta"] == "1.1"


def test_newer_services_than_the_client_leave_the_newest(services, caps):
    services("hv1", "1.7")
    assert caps.choose("hva", HVA_NEWEST) == HVA_NEWEST


def test_without_the_services_table_auto_is_the_newest(services, caps):
    services("hv1", "1.2")
    assert caps.choose("collector", "1.4", from_services=False) == "1.4"
    caps.read_services_table(False)  # an agent, a command, a test
    assert caps.choose("hva", HVA_NEWEST) == HVA_NEWEST


def test_auto_is_read_again_after_the_refresh_interval(
    services, caps, config, monkeypatch
):
    """The first message reads the table; then the DB heartbeat's
    refresh(force=False) reads it again once the interval passed."""
    config("auto_refresh_interval", 60, group="upgrade_levels")
    now = [1000.0]
    monkeypatch.setattr(version_cap.time, "monotonic", lambda: now[0])
    services("hv1", "1.3")
    assert caps.choose("hva", HVA_NEWEST) == "1.3"
    from arame.common.db import engine, models

    with engine.session() as s:
        s.query(models.Service).update({"rpc_version": "1.4"})
    now[0] += 59
    caps.refresh(force=False)
    assert caps.choose("hva", HVA_NEWEST) == "1.3"
    now[0] += 2
    caps.refresh(force=False)
    assert caps.choose("hva", HVA_NEWEST) == "1.4"


def test_a_db_heartbeat_reads_the_versions_again(services, caps, config):
    from arame.common.db import engine, models
    from arame.common.db.services import DBHeartbeat

    config("auto_refresh_interval", 1, group="upgrade_levels")
    services("hv1", "1.2")
    beat = DBHeartbeat("arame-scheduler", "scheduler")
    assert caps.choose("hva", HVA_NEWEST) == "1.2"
    with engine.session() as s:
        s.query(models.Service).update({"rpc_version": "1.4"})
    caps.refresh()  # as the beat does once the interval passed
    beat.beat()
    assert caps.choose("hva", HVA_NEWEST) == HVA_NEWEST


def test_the_chosen_cap_is_logged_once_per_change(
    services, caps, caplog, monkeypatch
):
    now = [1000.0]
    monkeypatch.setattr(version_cap.time, "monotonic", lambda: now[0])
    services("hv1", "1.3")
    with caplog.at_level(logging.INFO, logger=version_cap.__name__):
        for _ in range(3):
            caps.choose("hva", HVA_NEWEST)
        from arame.common.db import engine, models

        with engine.session() as s:
            s.query(models.Service).update({"rpc_version": "1.4"})
        now[0] += 3600
        caps.refresh(force=False)
        caps.choose("hva", HVA_NEWEST)
        caps.choose("hva", HVA_NEWEST)
    said = [r.getMessage() for r in caplog.records if "capped" in r.message]
    assert said == [
        "RPC messages to hva services capped at 1.3 (auto: the oldest "
        "running hva service)",
        "RPC messages to hva services capped at 1.4 (auto: the newest known)",
    ]


class Made:
    def __init__(self, topic, version_cap):
        self.topic, self.version_cap = topic, version_cap


def test_the_client_is_made_again_when_the_cap_changes(
    caps, config, monkeypatch
):
    from arame.common import rpc

    made = []

    def get_client(topic, version_cap=None):
        made.append(Made(topic, version_cap))
        return made[-1]

    monkeypatch.setattr(rpc, "get_client", get_client)
    client = rpc.CappedClient("hva", "hva", HVA_NEWEST)
    assert client._client() is client._client()
    assert [m.version_cap for m in made] == [HVA_NEWEST]
    config("hva", "1.3", group="upgrade_levels")
    assert client._client().version_cap == "1.3"
    assert client.can_send_version("1.3")
    assert not client.can_send_version("1.4")
    assert not client.can_send_version("2.0")


def test_require_names_the_version_the_method_needs(caps, config):
    from arame.common import rpc

    config("hva", "1.3", group="upgrade_levels")
    client = rpc.CappedClient("hva", "hva", HVA_NEWEST)
    version_cap.require(client, "hva", "1.3", "remove_image")
    with pytest.raises(messaging.UnsupportedVersion) as e:
        version_cap.require(client, "hva", "1.4", "refresh_host_ports")
    assert isinstance(e.value, rpc.VersionCapped)
    assert str(e.value).startswith(
        "refresh_host_ports needs hva RPC API 1.4, but messages to hva "
        "services are capped at 1.3 ([upgrade_levels] hva"
    )
    assert (e.value.version, e.value.method) == ("1.4", "refresh_host_ports")


def test_a_server_notes_the_version_its_endpoints_serve(monkeypatch):
    monkeypatch.setattr(version_cap, "_served", {})

    class Manager:
        target = messaging.Target(version="1.3")

    class Data:
        target = messaging.Target(namespace="sta_data", version="1.0")

    version_cap.serve("sta", [Manager(), Data()])
    assert version_cap.served("sta") == "1.3"

    class Newer:
        target = messaging.Target(version="1.4")

    version_cap.serve("sta", [Newer()])  # a process's oldest is reported
    assert version_cap.served("sta") == "1.3"
    assert version_cap.served("hva") is None
