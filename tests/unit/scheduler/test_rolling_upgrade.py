"""A rolling upgrade across hosts: a scheduler with the newest hva API
talks to an hva one version back (1.3, before refresh_host_ports), over
the real oslo.messaging (fake:// transport) and the real manager with its
Target at 1.3. The cap comes from the services table ("auto": the hva
reports 1.3 in its heartbeat); messages go at the old version and the old
manager takes them; the 1.4 message is not sent, the flow falls back to
refresh_ports per guest."""

import oslo_messaging as messaging
import pytest

from arame.agents.hva import rpcapi as hva_rpcapi
from arame.agents.hva.drivers.fake import FakeDriver
from arame.agents.hva.manager import HypervisorManager
from arame.common import rpc
from arame.common.rpc import version_cap
from arame.scheduler.flows import security_groups

HOST = "hv-old"
A, B = "i-aaaa0001", "i-bbbb0002"
SG = "sg-web00001"
RULES = [{"protocol": "tcp", "from_port": 80, "to_port": 80}]


class PreviousHva(HypervisorManager):
    """The hva of the release before: the same manager, serving 1.3."""

    target = messaging.Target(version="1.3")


class Recording(FakeDriver):
    def __init__(self, host):
        super().__init__(host)
        self.refreshed = []

    def refresh_ports(self, instance_id, ports):
        self._guest(instance_id)
        self.refreshed.append(instance_id)


class Notifier:
    def info(self, *a):
        pass


@pytest.fixture
def old_hva(db, bus, monkeypatch):
    """An hva at 1.3 serving HOST, its heartbeat written as the collector
    writes it; the messages the transport sends are recorded."""
    from arame.common.db import engine
    from arame.common.db.services import write_service_heartbeat
    from arame.common.heartbeat import service_record

    monkeypatch.setattr(version_cap, "_served", {})
    version_cap.reset()
    version_cap.read_services_table()
    driver = Recording(HOST)
    mgr = PreviousHva(HOST, driver, Notifier())
    for iid in (A, B):
        mgr.spawn({}, {"id": iid, "name": iid, "hostname": iid})
    server = rpc.get_server(hva_rpcapi.TOPIC, HOST, [mgr])
    record = service_record(hva_rpcapi.BINARY, hva_rpcapi.TOPIC, HOST)
    assert record["rpc_version"] == "1.3"  # what its heartbeat says
    with engine.session() as s:
        write_service_heartbeat(s, record)
    sent = []
    transport = rpc.get_transport()
    send = transport._send

    def recording_send(target, ctxt, message, *a, **kw):
        sent.append((target.server, message["method"], message["version"]))
        return send(target, ctxt, message, *a, **kw)

    monkeypatch.setattr(transport, "_send", recording_send)
    server.start()
    try:
        yield driver, sent
    finally:
        server.stop()
        server.wait()
        version_cap.read_services_table(False)
        version_cap.reset()


def ports(n):
    return [
        {
            "mac": f"52:54:00:00:00:0{n}",
            "ip": f"10.0.0.{n}",
            "security_groups": [{"id": SG, "rules": RULES}],
            "group_members": {SG: ["10.0.0.1", "10.0.0.2"]},
        }
    ]


def test_the_newest_scheduler_talks_to_an_hva_one_version_back(old_hva):
    driver, sent = old_hva
    hva = hva_rpcapi.HypervisorAPI()
    assert hva.VERSION_CAP == "1.5"
    assert hva.client.version_cap == "1.3"  # auto: the oldest running

    # A 1.3 message goes at 1.3, and the 1.3 manager takes it.
    answer = hva.remove_image({}, HOST, "img-abcd0001", timeout=10)
    assert answer["image_id"] == "img-abcd0001"
    assert sent[-1] == (HOST, "remove_image", "1.3")

    # The 1.4 message is refused before it is sent ...
    with pytest.raises(rpc.VersionCapped, match="needs hva RPC API 1.4"):
        hva.refresh_host_ports({}, HOST, {}, {}, {}, timeout=10)
    assert [m for _, m, _ in sent] == ["remove_image"]

    # ... and the security group flow refreshes guest by guest instead.
    flow = object.__new__(security_groups.RefreshSecurityGroupFlow)
    flow.hva = hva
    flow.specs = {A: ports(1), B: ports(2)}

    def ask(step, host, method, *args, down=None):
        return method({}, host, *args, timeout=10)

    flow.ask = ask
    flow._apply(HOST, [A, B], down=None)
    assert sorted(driver.refreshed) == [A, B]
    assert sent[1:] == [
        (HOST, "refresh_ports", "1.0"),
        (HOST, "refresh_ports", "1.0"),
    ]


def test_without_the_cap_the_old_hva_refuses_the_newer_message(
    old_hva, config
):
    """What the cap spares: pinned to the newest, the 1.4 message goes
    and the 1.3 manager answers UnsupportedVersion."""
    config("hva", "1.4", group="upgrade_levels")
    hva = hva_rpcapi.HypervisorAPI()
    with pytest.raises(
        (messaging.UnsupportedVersion, messaging.RemoteError)
    ) as e:
        hva.refresh_host_ports({}, HOST, {}, {}, {}, timeout=10)
    assert not isinstance(e.value, rpc.VersionCapped)
    assert "UnsupportedVersion" in (
        getattr(e.value, "exc_type", None) or type(e.value).__name__
    )


def test_once_the_hva_is_upgraded_the_cap_rises(old_hva, config):
    from arame.common.db import engine
    from arame.common.db.services import write_service_heartbeat
    from arame.common.heartbeat import service_record

    config("auto_refresh_interval", 1, group="upgrade_levels")
    hva = hva_rpcapi.HypervisorAPI()
    assert hva.client.version_cap == "1.3"
    record = service_record(hva_rpcapi.BINARY, hva_rpcapi.TOPIC, HOST)
    with engine.session() as s:
        write_service_heartbeat(s, {**record, "rpc_version": "1.4"})
    version_cap.refresh()  # the scheduler's DB heartbeat, each interval
    assert hva.client.version_cap == "1.4"
    assert hva.client.can_send_version("1.4")


def test_an_hva_before_1_5_is_sent_the_old_chap_names(old_hva, monkeypatch):
    """The CHAP rename (hva 1.5): capped below it, a volume goes under the
    names the old hva reads (username / password), at 1.1, and it plugs
    it."""
    from arame.agents.hva import messages
    from arame.common.db import models
    from arame.scheduler.flows import volume_attach

    driver, sent = old_hva
    transport = rpc.get_transport()
    send, wire = transport._send, []

    def capture(target, ctxt, message, *a, **kw):
        wire.append(message["args"])
        return send(target, ctxt, message, *a, **kw)

    monkeypatch.setattr(transport, "_send", capture)
    hva = hva_rpcapi.HypervisorAPI()
    assert hva.VERSION_CAP == messages.CHAP_VERSION
    vid = "vol-aaaa0001"
    export = {"iqn": f"iqn.2025-01.org.arame:{vid}", "portal": "p:1", "lun": 1}
    disk = volume_attach.connection(
        models.Volume(id=vid), export, "arame-aaaa0001", "s3cret-0123456"
    )
    assert hva.attach_volume({}, HOST, A, disk, timeout=10)["device"]
    assert sent[-1] == (HOST, "attach_volume", "1.1")
    volume = wire[-1]["volume"]
    assert (volume["username"], volume["password"]) == (
        "arame-aaaa0001",
        "s3cret-0123456",
    )
    assert not {"chap_user", "chap_secret"} & set(volume)
