"""sta's typed messages (issue 13): the CHAP secret has one name,
chap_secret; the name before RPC API 1.3 (chap_password) is still read
from an older scheduler or collector, and still sent to an older sta."""

from typing import Any

import pytest

from arame.agents.sta import messages
from arame.agents.sta.backends.fake import FakeBackend
from arame.agents.sta.manager import STAManager
from arame.agents.sta.targets.fake import FakeTarget
from tests.helpers.rpc_recorder import Recorder, recorded  # noqa: F401

VOL = "vol-aaaa0001"
HOST = "10.0.0.5"
USER = "arame-aaaa0001"
SECRET = "Secret-pass-0001"


Agent = tuple[STAManager, FakeTarget]


@pytest.fixture
def agent() -> Agent:
    backend, target = FakeBackend(), FakeTarget(address="192.0.2.10")
    mgr = STAManager(backend, target, max_volume_gb=10, import_dirs=[])
    spec: messages.VolumeSpec = {"id": VOL, "size_gb": 1}
    mgr.create_volume({}, spec)
    return mgr, target


def test_accept_old_names_prefers_the_new_one() -> None:
    assert messages.accept_old_names(
        {"volume_id": VOL, "chap_password": "old"}
    ) == {"volume_id": VOL, "chap_secret": "old"}
    assert messages.accept_old_names(
        {"chap_secret": "new", "chap_password": "old"}
    ) == {"chap_secret": "new"}
    # None is a missing value: an explicit keyword left unset
    assert messages.accept_old_names(
        {"chap_secret": None, "chap_password": "old"}
    ) == {"chap_secret": "old"}


def test_old_names_and_both() -> None:
    export: messages.Export = {
        "volume_id": VOL,
        "initiator_address": HOST,
        "chap_user": USER,
        "chap_secret": SECRET,
    }
    assert messages.old_names(export) == {
        "volume_id": VOL,
        "initiator_address": HOST,
        "chap_user": USER,
        "chap_password": SECRET,
    }
    both = messages.with_old_names(export)
    assert both["chap_secret"] == both["chap_password"] == SECRET
    assert messages.accept_old_names(both) == export


def test_export_volume_by_the_new_name(agent: Agent) -> None:
    mgr, target = agent
    conn = mgr.export_volume({}, VOL, HOST, USER, chap_secret=SECRET)
    assert conn["iqn"].endswith(VOL)
    assert target.login(VOL, HOST, USER, SECRET)


def test_export_volume_from_a_scheduler_before_1_3(agent: Agent) -> None:
    """An older scheduler sends chap_password: still exported."""
    mgr, target = agent
    mgr.export_volume({}, VOL, HOST, USER, chap_password=SECRET)
    assert target.login(VOL, HOST, USER, SECRET)


def test_export_volume_without_a_secret_is_refused(agent: Agent) -> None:
    from arame.agents.sta import errors

    mgr, _ = agent
    with pytest.raises(errors.InvalidRequest, match="CHAP secret"):
        mgr.export_volume({}, VOL, HOST, USER)


@pytest.mark.parametrize("name", ["chap_secret", "chap_password"])
def test_rebuild_from_either_collector(agent: Agent, name: str) -> None:
    """A collector of this release sends both names, an older one only
    chap_password: the rebuild makes the export either way."""
    mgr, target = agent
    entry = {
        "volume_id": VOL,
        "initiator_address": HOST,
        "chap_user": USER,
        name: SECRET,
    }
    got = mgr.rebuild_exports({}, [entry])
    assert got["restored"] == [VOL] and not got["failed"]
    assert target.login(VOL, HOST, USER, SECRET)
    assert mgr._usable([entry]) == [messages.accept_old_names(entry)]


@pytest.mark.parametrize(
    "cap,version,name",
    [("1.3", "1.3", "chap_secret"), ("1.2", "1.1", "chap_password")],
)
def test_the_client_names_the_secret_as_the_nodes_read_it(
    recorded: list[Recorder], config: Any, cap: str, version: str, name: str
) -> None:
    from arame.agents.sta.rpcapi import STAAPI

    config("sta", cap, group="upgrade_levels")
    api = STAAPI()
    api.export_volume({}, "st1", VOL, HOST, USER, SECRET, timeout=5)
    export: messages.Export = {
        "volume_id": VOL,
        "initiator_address": HOST,
        "chap_user": USER,
        "chap_secret": SECRET,
    }
    api.rebuild_exports({}, "st1", [export], timeout=5)
    (v1, m1, kw1), (v2, m2, kw2) = recorded[-1].sent
    assert (v1, m1, v2, m2) == (
        version,
        "export_volume",
        version,
        "rebuild_exports",
    )
    assert kw1[name] == SECRET and kw2["expected"][0][name] == SECRET
    other = {"chap_secret", "chap_password"} - {name}
    assert not other & (set(kw1) | set(kw2["expected"][0]))
