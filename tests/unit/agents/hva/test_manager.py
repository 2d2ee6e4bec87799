"""The hypervisor agent's endpoint over the fake driver."""

import oslo_messaging as messaging
import pytest

from arame.agents.hva import manager as hva_manager
from arame.agents.hva.drivers.base import InstanceNotFound
from arame.agents.hva.drivers.fake import FakeDriver
from arame.agents.hva.manager import HypervisorManager, InvalidIdentifier

IID = "i-abcd1234"
CTXT = {}


class RecordingNotifier:
    def __init__(self):
        self.sent = []

    def info(self, ctxt, event_type, payload):
        self.sent.append((event_type, payload))


class SpyDriver(FakeDriver):
    """The fake driver, remembering every id that reached it."""

    def __init__(self, host):
        super().__init__(host)
        self.reached = []

    def spawn(self, instance):
        self.reached.append(("spawn", instance["id"]))
        return super().spawn(instance)

    def destroy(self, instance_id):
        self.reached.append(("destroy", instance_id))
        return super().destroy(instance_id)

    def power_on(self, instance_id):
        self.reached.append(("power_on", instance_id))
        return super().power_on(instance_id)

    def power_off(self, instance_id):
        self.reached.append(("power_off", instance_id))
        return super().power_off(instance_id)

    def reboot(self, instance_id):
        self.reached.append(("reboot", instance_id))
        return super().reboot(instance_id)

    def get_console_output(self, instance_id):
        self.reached.append(("console", instance_id))
        return super().get_console_output(instance_id)


@pytest.fixture
def agent(parsed_conf):
    driver = SpyDriver("hv1")
    notifier = RecordingNotifier()
    return HypervisorManager("hv1", driver, notifier), driver, notifier


def spec(iid=IID, name="web-1"):
    return {
        "id": iid,
        "name": name,
        "hostname": name,
        "vcpus": 1,
        "memory_mb": 512,
        "disk_gb": 5,
        "image_id": "img-abcd1234",
        "user_data": None,
        "ha_enabled": True,
        "account_id": "a-admin",
    }


BAD_IDS = [
    "i-abc;rm -rf /",
    "../x",
    "../../etc/passwd",
    "vol-abcd1234",
    "i-ABCD1234",
    "i-abcd123",
    "",
    None,
    "i-abcd1234 ",
    "$(reboot)",
    "i-abcd`id`",
]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_invalid_ids_never_reach_the_driver(agent, bad):
    mgr, driver, _ = agent
    calls = [
        lambda: mgr.spawn(CTXT, spec(bad)),
        lambda: mgr.destroy(CTXT, bad),
        lambda: mgr.power_on(CTXT, bad),
        lambda: mgr.power_off(CTXT, bad),
        lambda: mgr.reboot(CTXT, bad),
        lambda: mgr.get_console_output(CTXT, bad),
    ]
    for call in calls:
        with pytest.raises(InvalidIdentifier):
            call()
    assert driver.reached == []
    assert driver.list_instances() == {}


def test_spawn_without_an_id_is_refused(agent):
    mgr, driver, _ = agent
    with pytest.raises(InvalidIdentifier):
        mgr.spawn(CTXT, {"name": "x"})
    assert driver.reached == []


def test_id_with_a_trailing_newline_never_reaches_the_driver(agent):
    mgr, driver, _ = agent
    with pytest.raises(InvalidIdentifier):
        mgr.destroy(CTXT, "i-abcd1234\n")
    assert driver.reached == []


def test_spawn_twice_leaves_one_running_guest(agent):
    mgr, driver, _ = agent
    assert mgr.spawn(CTXT, spec()) == {"power_state": "running"}
    assert mgr.spawn(CTXT, spec()) == {"power_state": "running"}
    assert mgr.list_instances(CTXT) == {"instances": {IID: "running"}}
    # The guest booted once.
    assert mgr.get_console_output(CTXT, IID)["output"].count("booted") == 1


def test_spawn_of_a_stopped_guest_starts_it(agent):
    mgr, _, _ = agent
    mgr.spawn(CTXT, spec())
    mgr.power_off(CTXT, IID)
    mgr.spawn(CTXT, spec())
    assert mgr.list_instances(CTXT) == {"instances": {IID: "running"}}


def test_destroy_removes_the_guest_and_is_idempotent(agent):
    mgr, _, _ = agent
    mgr.spawn(CTXT, spec())
    assert mgr.destroy(CTXT, IID) == {"power_state": None}
    assert mgr.list_instances(CTXT) == {"instances": {}}
    assert mgr.destroy(CTXT, IID) == {"power_state": None}


def test_destroy_of_a_guest_never_spawned_succeeds(agent):
    mgr, _, _ = agent
    assert mgr.destroy(CTXT, "i-zzzzzzzz") == {"power_state": None}


def test_power_cycle(agent):
    mgr, _, _ = agent
    mgr.spawn(CTXT, spec())
    assert mgr.power_off(CTXT, IID) == {"power_state": "shutdown"}
    assert mgr.list_instances(CTXT)["instances"][IID] == "shutdown"
    assert mgr.power_on(CTXT, IID) == {"power_state": "running"}
    assert mgr.reboot(CTXT, IID) == {"power_state": "running"}
    out = mgr.get_console_output(CTXT, IID)["output"]
    assert "powered off" in out and "powered on" in out and "rebooted" in out


@pytest.mark.parametrize(
    "op", ["power_on", "power_off", "reboot", "get_console_output"]
)
def test_operations_on_a_missing_guest_name_the_host(agent, op):
    mgr, _, _ = agent
    with pytest.raises(InstanceNotFound, match="i-zzzzzzzz is not on hv1"):
        getattr(mgr, op)(CTXT, "i-zzzzzzzz")


class ChattyDriver(FakeDriver):
    def __init__(self, host, text):
        super().__init__(host)
        self.text = text

    def get_console_output(self, instance_id):
        return self.text


def test_console_is_cut_to_the_last_64_kib(parsed_conf):
    text = "HEAD\n" + "x" * (200 * 1024) + "\nTAIL\n"
    mgr = HypervisorManager(
        "hv1", ChattyDriver("hv1", text), RecordingNotifier()
    )
    got = mgr.get_console_output(CTXT, IID)
    assert got["truncated"] is True
    assert len(got["output"].encode()) == hva_manager.CONSOLE_LIMIT == 65536
    assert got["output"].endswith("\nTAIL\n")
    assert "HEAD" not in got["output"]


def test_console_under_the_limit_is_whole(parsed_conf):
    text = "y" * 65536
    mgr = HypervisorManager(
        "hv1", ChattyDriver("hv1", text), RecordingNotifier()
    )
    assert mgr.get_console_output(CTXT, IID) == {
        "output": text,
        "truncated": False,
    }


def test_console_cut_inside_a_multibyte_character_stays_text(parsed_conf):
    text = "é" * 40000  # 80000 bytes; the cut is mid-char
    mgr = HypervisorManager(
        "hv1", ChattyDriver("hv1", text + "x"), RecordingNotifier()
    )
    got = mgr.get_console_output(CTXT, IID)
    assert got["truncated"] is True
    assert set(got["output"][:-1]) == {"é"}
    assert len(got["output"].encode()) <= 65536


def test_a_crash_becomes_an_instance_state_notification(agent):
    mgr, driver, notifier = agent
    mgr.spawn(CTXT, spec())
    driver.crash(IID)
    [(event, payload)] = notifier.sent
    # A fresh id per event: the collector records each one once.
    assert len(payload.pop("event_id")) == 32
    assert (event, payload) == (
        "instance.state",
        {
            "instance_id": IID,
            "host": "hv1",
            "power_state": "crashed",
            "reason": "guest died",
            "event": "crashed",
        },
    )


def test_inventory_names_the_host(agent, config):
    config("vcpus", 16, group="fake_hva")
    mgr, _, _ = agent
    inv = mgr.inventory()
    assert inv["name"] == "hv1"
    assert inv["vcpus"] == 16
    assert inv["hypervisor_type"] == "fake"


def test_fail_spawn_pattern_makes_spawn_fail(agent, config):
    config("fail_spawn_pattern", "^doomed", group="fake_hva")
    mgr, _, _ = agent
    with pytest.raises(RuntimeError, match="fail_spawn_pattern"):
        mgr.spawn(CTXT, spec(name="doomed-1"))
    assert mgr.spawn(CTXT, spec(name="fine-1")) == {"power_state": "running"}


def test_bad_id_over_the_bus_is_refused_by_the_agent(bus, parsed_conf):
    from arame.agents.hva import rpcapi
    from arame.common import rpc
    from arame.common.context import admin_context

    driver = SpyDriver("hv1")
    server = rpc.get_server(
        rpcapi.TOPIC,
        "hv1",
        [HypervisorManager("hv1", driver, RecordingNotifier())],
    )
    server.start()
    try:
        api = rpcapi.HypervisorAPI()
        # fake:// hands the exception object back; rabbit:// a RemoteError.
        with pytest.raises((messaging.RemoteError, InvalidIdentifier)) as exc:
            api.destroy(admin_context(), "hv1", "../../x", timeout=10)
        assert "InvalidIdentifier" in (
            getattr(exc.value, "exc_type", None) or type(exc.value).__name__
        )
        assert api.spawn(admin_context(), "hv1", spec(), timeout=10) == {
            "power_state": "running"
        }
    finally:
        server.stop()
        server.wait()
    assert driver.reached == [("spawn", IID)]


class Collector:
    def __init__(self, expected):
        self.expected = expected

    def expected_instances(self, ctxt, host):
        return {"instances": self.expected}


def test_power_sync_reports_drift_missing_guests_and_orphans(agent):
    mgr, driver, notifier = agent
    drifted, orphan, missing = IID, "i-orphan01", "i-missing1"
    for iid in (drifted, orphan):
        mgr.spawn(CTXT, spec(iid))
    driver.power_off(drifted)
    report = mgr.sync_power_states(
        Collector(
            {
                drifted: {"status": "running", "power_state": "running"},
                missing: {"status": "running", "power_state": "running"},
                "i-building": {"status": "starting", "power_state": None},
            }
        )
    )
    assert report == {
        "drift": [drifted],
        "missing": [missing],
        "orphans": [{"instance_id": orphan, "power_state": "running"}],
    }
    sent = {
        (e, p.get("instance_id"), p.get("event")) for e, p in notifier.sent
    }
    assert sent == {
        ("instance.state", drifted, "drift"),
        ("instance.state", missing, "missing"),
        ("host.orphans", None, None),
    }


def test_power_sync_is_quiet_when_all_agrees(agent):
    mgr, _, notifier = agent
    mgr.spawn(CTXT, spec())
    report = mgr.sync_power_states(
        Collector({IID: {"status": "running", "power_state": "running"}})
    )
    assert report == {"drift": [], "missing": [], "orphans": []}
    assert notifier.sent == []


def test_power_sync_reports_an_error_instance_the_collector_compares(agent):
    # A stop that timed out at the scheduler left error/running; the guest
    # has since shut off: the record must learn it.
    mgr, driver, notifier = agent
    mgr.spawn(CTXT, spec())
    driver.power_off(IID)
    report = mgr.sync_power_states(
        Collector(
            {
                IID: {
                    "status": "error",
                    "power_state": "running",
                    "compare": True,
                },
                "i-owned001": {
                    "status": "stopping",
                    "power_state": "running",
                    "compare": False,
                },
            }
        )
    )
    assert report == {"drift": [IID], "missing": [], "orphans": []}
    assert ("instance.state", IID, "drift") in {
        (e, p.get("instance_id"), p.get("event")) for e, p in notifier.sent
    }
