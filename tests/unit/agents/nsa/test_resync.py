"""Resync: the controller's answer is what the node ends up holding."""

from arame.agents.nsa.drivers.fake import FakeDriver
from arame.agents.nsa.manager import NSAManager
from arame.agents.nsa.resync import Resync

from .conftest import NET_ID, NETWORK_MSG

OTHER = dict(
    NETWORK_MSG,
    id="nw-other123",
    bridge="br-other",
    cidr="10.30.0.0/24",
    gateway="10.30.0.1",
    dhcp_ranges=[],
)


def r(n, net="10.20.0"):
    return {
        "mac": f"52:54:00:00:01:{n:02x}",
        "ip": f"{net}.{10 + n}",
        "hostname": f"h{n}",
    }


def test_resync_adds_missing_removes_stale_and_unknown_networks(parsed_conf):
    mgr = NSAManager(FakeDriver())
    mgr.ensure_network({}, NETWORK_MSG)
    mgr.add_reservation({}, NET_ID, "52:54:00:00:02:01", "10.20.0.99", "stale")
    mgr.ensure_network(
        {}, dict(NETWORK_MSG, id="nw-gone0000", bridge="br-gone")
    )
    asked = []

    def fetch(ids):
        asked.append(ids)
        return {
            NET_ID: (NETWORK_MSG, [r(1), r(2)]),
            "nw-other123": (OTHER, [r(1, "10.30.0")]),
        }

    out = Resync(mgr, fetch).run_once()
    assert asked == [["nw-abcd1234", "nw-gone0000"]]
    assert out == {
        "synced": ["nw-abcd1234", "nw-other123"],
        "removed": ["nw-gone0000"],
        "failed": {},
    }
    st = mgr.status({})["networks"]
    assert {k: v["reservations"] for k, v in st.items()} == {
        NET_ID: 2,
        "nw-other123": 1,
    }
    names = sorted(x.hostname for x in mgr.driver.reservations(NET_ID))
    assert names == ["h1", "h2"]


def test_unreachable_controller_keeps_everything(parsed_conf):
    mgr = NSAManager(FakeDriver())
    mgr.ensure_network({}, NETWORK_MSG)

    def fetch(ids):
        raise TimeoutError("collector down")

    out = Resync(mgr, fetch).run_once()
    assert out["failed"] == {"*": "collector down"}
    assert list(mgr.driver.networks()) == [NET_ID]


def test_one_bad_network_does_not_stop_the_others(parsed_conf):
    mgr = NSAManager(FakeDriver())
    out = Resync(
        mgr,
        lambda ids: {
            "nw-bad00000": (
                dict(NETWORK_MSG, id="nw-bad00000", bridge="x y"),
                [],
            ),
            NET_ID: (NETWORK_MSG, [r(1)]),
        },
    ).run_once()
    assert out["synced"] == [NET_ID] and list(out["failed"]) == ["nw-bad00000"]
