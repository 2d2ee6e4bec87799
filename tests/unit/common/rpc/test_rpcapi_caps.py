"""Every proxy, method by method: a message above the cap is refused
(VersionCapped, nothing sent); at or below, it goes at its own version."""

import pytest

from arame.common import rpc
from arame.common.rpc import version_cap

NODE = {"id": "bm-1", "bmc_address": "10.0.0.9"}


class Recorder:
    def __init__(self, topic, version_cap=None):
        self.version_cap, self.sent = version_cap, []

    def prepare(self, version="1.0", **kw):
        self._version = version
        return self

    def call(self, ctxt, method, **kw):
        self.sent.append((self._version, method))
        return {}

    cast = call


def _proxies():
    from arame.agents.bma.rpcapi import BMAAPI
    from arame.agents.hva.rpcapi import HypervisorAPI
    from arame.agents.l3.rpcapi import L3API
    from arame.agents.nsa.rpcapi import NSAAPI
    from arame.agents.sta.rpcapi import STAAPI
    from arame.collector.rpcapi import CollectorAPI
    from arame.scheduler.rpcapi import SchedulerAPI

    t = {"timeout": 5}
    net = {"id": "net-1"}
    boot = {"mac": "m", "ip": "i", "hostname": "h", "boot_script": "#!"}
    return [
        (
            "hva",
            HypervisorAPI,
            "1.1",
            lambda a: a.attach_volume({}, "h", "i-1", {}, **t),
        ),
        (
            "hva",
            HypervisorAPI,
            "1.1",
            lambda a: a.detach_volume({}, "h", "i-1", "v-1", **t),
        ),
        (
            "hva",
            HypervisorAPI,
            "1.2",
            lambda a: a.get_metrics({}, "h", "i-1", None, **t),
        ),
        (
            "hva",
            HypervisorAPI,
            "1.3",
            lambda a: a.remove_image({}, "h", "img-1", **t),
        ),
        (
            "hva",
            HypervisorAPI,
            "1.4",
            lambda a: a.refresh_host_ports({}, "h", {}, {}, {}, **t),
        ),
        ("sta", STAAPI, "1.1", lambda a: a.capacity({}, "st", **t)),
        (
            "sta",
            STAAPI,
            "1.1",
            lambda a: a.delete_volume({}, "st", "v-1", **t),
        ),
        ("nsa", NSAAPI, "1.1", lambda a: a.status({}, "ns", **t)),
        (
            "nsa",
            NSAAPI,
            "1.2",
            lambda a: a.add_reservation(
                {}, "ns", "net-1", "m", "i", "h", boot_script="#!", **t
            ),
        ),
        ("nsa", NSAAPI, "1.2", lambda a: a.sync({}, "ns", net, [boot], **t)),
        ("bma", BMAAPI, "1.1", lambda a: a.power_on({}, "bm", NODE, **t)),
        ("l3", L3API, "1.1", lambda a: a.status({}, "l3", **t)),
        (
            "scheduler",
            SchedulerAPI,
            "1.1",
            lambda a: a.create_volume({}, "t", "v"),
        ),
        (
            "scheduler",
            SchedulerAPI,
            "1.2",
            lambda a: a.node_action({}, "t", "bm-1", "manage"),
        ),
        (
            "scheduler",
            SchedulerAPI,
            "1.3",
            lambda a: a.attach_volume({}, "t", "v"),
        ),
        (
            "scheduler",
            SchedulerAPI,
            "1.4",
            lambda a: a.delete_image({}, "t", "img"),
        ),
        (
            "scheduler",
            SchedulerAPI,
            "1.5",
            lambda a: a.sync_router({}, "t", "r"),
        ),
        (
            "collector",
            CollectorAPI,
            "1.1",
            lambda a: a.expected_exports({}, "st", **t),
        ),
        (
            "collector",
            CollectorAPI,
            "1.2",
            lambda a: a.fetch_nodes({}, "bm", **t),
        ),
        (
            "collector",
            CollectorAPI,
            "1.4",
            lambda a: a.expected_routers({}, "l3", **t),
        ),
    ]


PROXIES = _proxies()


@pytest.fixture
def recorded(parsed_conf, monkeypatch):
    version_cap.reset()
    made = []

    def get_client(topic, version_cap=None):
        made.append(Recorder(topic, version_cap))
        return made[-1]

    monkeypatch.setattr(rpc, "get_client", get_client)
    yield made
    version_cap.reset()


def below(version):
    major, minor = version_cap.parse(version)
    return f"{major}.{minor - 1}"


@pytest.mark.parametrize(
    "kind,proxy,version,send",
    PROXIES,
    ids=[f"{k}-{v}-{i}" for i, (k, _, v, _) in enumerate(PROXIES)],
)
def test_above_the_cap_refused_at_it_sent(
    recorded, config, kind, proxy, version, send
):
    config(kind, below(version), group="upgrade_levels")
    api = proxy()
    with pytest.raises(rpc.VersionCapped, match=f"RPC API {version}"):
        send(api)
    assert all(not c.sent for c in recorded)
    config(kind, version, group="upgrade_levels")
    send(api)
    assert recorded[-1].version_cap == version
    assert recorded[-1].sent[-1][0] == version


def test_messages_of_1_0_go_whatever_the_cap(recorded, config):
    from arame.agents.hva.rpcapi import HypervisorAPI
    from arame.agents.nsa.rpcapi import NSAAPI

    config("hva", "1.0", group="upgrade_levels")
    config("nsa", "1.1", group="upgrade_levels")
    HypervisorAPI().spawn({}, "h", {"id": "i-1"}, timeout=5)
    NSAAPI().add_reservation({}, "ns", "net-1", "m", "i", "h", timeout=5)
    assert [c.sent for c in recorded] == [
        [("1.0", "spawn")],
        [("1.1", "add_reservation")],
    ]


def test_a_scheduler_before_1_7_is_not_told_the_provider(monkeypatch):
    """The API says an instance's provider from scheduler 1.7 on (sparing
    the scheduler a read); capped below, the cast is the 1.0 one and the
    scheduler reads the provider itself."""
    from arame.scheduler.rpcapi import SchedulerAPI

    class Capped(Recorder):
        def can_send_version(self, version):
            return version_cap.compatible(self.version_cap, version)

        def prepare(self, version="1.0", **kw):
            self._version = version
            return self

        def cast(self, ctxt, method, **kw):
            self.sent.append((getattr(self, "_version", "1.0"), method, kw))
            self._version = "1.0"

    for cap, expect in [("1.7", ("1.7", "vm")), ("1.6", ("1.0", None))]:
        client = Capped("scheduler", cap)
        monkeypatch.setattr(rpc, "CappedClient", lambda *a, c=client: c)
        api = SchedulerAPI()
        api.build_instance({}, "t", "i-1", "vm")
        api.delete_instance({}, "t2", "i-1", "vm")
        api.instance_action({}, "t3", "i-1", "stop", "vm")
        assert [(v, kw.get("provider")) for v, _, kw in client.sent] == [
            expect
        ] * 3
