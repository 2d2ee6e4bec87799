"""ArameSDK, the notebook SDK, through the VCP flow against a real API:
API, scheduler, collector and fake agents as processes on RabbitMQ and
MariaDB. What a notebook user does (doc/notebooks/unit-groups.ipynb), and
what they must not suffer: a lost handle after a timeout or an interrupt,
an error that does not say which node failed where."""

import ipaddress
import uuid

import pytest
from conftest import ADMIN_PASSWORD, BASE_CONF, Deployment, merge

from arame.sdk import ArameSDK, AuthError, UnitError, WaitTimeout
from tests.helpers.ports import free_port

pytestmark = pytest.mark.functional

CONF = {
    # Slow enough that a wait sees nodes mid-build; the second node of a
    # unit named `doomed` never spawns.
    "fake_hva": {"spawn_delay": 0.3, "fail_spawn_pattern": "^doomed-2$"},
}


@pytest.fixture(scope="module")
def dep(infrastructure, tmp_path_factory):
    rabbit, mariadb = infrastructure
    name = "ft_" + uuid.uuid4().hex[:8]
    d = Deployment(
        name,
        str(tmp_path_factory.mktemp(name)),
        api_port=free_port(),
        admin_password=ADMIN_PASSWORD,
        conf=merge(BASE_CONF, CONF),
        rabbit=rabbit,
        mariadb=mariadb,
    )
    try:
        d.up(timeout=90)
        yield d
    finally:
        d.down(drop=True)


@pytest.fixture
def connect(dep, monkeypatch, tmp_path):
    """A new ArameSDK each call, as a new kernel would make (no saved
    login of this machine's user in the way)."""
    monkeypatch.setenv("ARAME_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("ARAME_TOKEN", raising=False)
    made = []

    def _connect():
        sdk = ArameSDK.login(
            "admin",
            ADMIN_PASSWORD,
            endpoint=dep.api_url,
            progress=False,
            poll_interval=0.2,
        )
        made.append(sdk)
        return sdk

    yield _connect
    for sdk in made:
        sdk.close()


@pytest.fixture
def ugroup(connect):
    """A group of the test's own, cleaned up whatever the test left."""
    sdk = connect()
    group = sdk.create_ugroup("ft-" + uuid.uuid4().hex[:8])
    yield group
    # By name: a test may have cleaned it up and made it again.
    if group.name in {g.name for g in sdk.find_ugroups()}:
        sdk.get_ugroup(group.name).cleanup(timeout=120)


def _spec(sdk):
    spec = sdk.get_spec("vm", "small")
    spec.image = sdk.client.images.list()[0]["id"]
    return spec


def test_a_bad_token_fails_at_construction(dep, connect):
    with pytest.raises(AuthError) as caught:
        ArameSDK(token="not-a-token", endpoint=dep.api_url)
    assert caught.value.status_code == 401
    assert "refused the token given" in str(caught.value)
    assert connect().version()["server"]


def test_the_vcp_flow(connect, ugroup):
    sdk = ugroup._sdk
    assert ugroup.state == "RUNNING"
    assert ugroup.df_nodes().empty
    spec = _spec(sdk)
    spec.volume_size = 8

    unit = ugroup.create_unit("web", spec, num_nodes=2, timeout=120)
    assert unit.state == "RUNNING"
    nodes = ugroup.df_nodes()
    assert nodes["node_state"].tolist() == ["RUNNING", "RUNNING"]
    assert nodes["flavor"].tolist() == ["small", "small"]
    assert len(ugroup.find_ip_addresses(node_state="RUNNING")) == 2
    assert unit.spec["root_gb"] == 8

    # wait_for=False, then a wait by name from another SDK.
    ugroup.create_unit("db", spec, wait_for=False)
    assert ugroup.get_unit("db").state == "BOOTING"
    db = connect().get_ugroup(ugroup.name).wait_unit_applied("db", 120)
    assert db.state == "RUNNING" and len(db.nodes) == 1

    # Nodes in and out: a count, fixed addresses, the server's pick.
    assert len(unit.add_nodes(num_add_nodes=2, timeout=120)) == 2
    network = sdk.client.networks.get("default")
    # The top of the range, less what the server's random picks took.
    last = ipaddress.ip_address(network["dhcp_ranges"][-1][1])
    taken = set(ugroup.find_ip_addresses())
    free = (str(last - i) for i in range(8))
    fixed = [a for a in free if a not in taken][:2]
    unit.add_nodes(ip_address=fixed, timeout=120)
    assert set(fixed) <= set(unit.find_ip_addresses(node_state="RUNNING"))
    unit.delete_nodes(ip_address=fixed[0], timeout=120)
    unit.delete_nodes(num_delete_nodes=2, timeout=120)
    assert len(unit.nodes) == 3
    assert fixed[0] not in unit.find_ip_addresses()

    assert unit.power_off(timeout=120).state == "POWER_OFF"
    assert set(unit.df_nodes()["node_state"]) == {"POWER_OFF"}
    assert unit.power_on(timeout=120).state == "RUNNING"

    # Everything found again by name; then the cleanup frees the name.
    again = connect().get_ugroup(ugroup.name)
    assert [u.name for u in again.find_units()] == ["web", "db"]
    assert again.get_unit("web").id == unit.id
    ugroup.cleanup(timeout=120)
    assert ugroup.name not in set(sdk.df_ugroups()["ugroup_name"])
    assert sdk.client.instances.list(unit=unit.id) == []
    reused = sdk.create_ugroup(ugroup.name)
    assert reused.state == "RUNNING" and reused.id != ugroup.id


def test_a_timed_out_or_interrupted_wait_is_resumed_by_name(connect, ugroup):
    spec = _spec(ugroup._sdk)
    with pytest.raises(WaitTimeout) as caught:
        ugroup.create_unit("slow", spec, num_nodes=3, timeout=0.1)
    assert "unit 'slow'" in str(caught.value)
    # A new kernel: nothing but the names.
    unit = connect().get_ugroup(ugroup.name).wait_unit_applied("slow", 120)
    assert unit.state == "RUNNING" and len(unit.nodes) == 3

    # The notebook's stop button: the wait ends, the work goes on.
    def interrupt(seconds):
        raise KeyboardInterrupt

    poller = ugroup._sdk.poller
    poller.sleep, sleep = interrupt, poller.sleep
    with pytest.raises(KeyboardInterrupt):
        ugroup.get_unit("slow").add_nodes(num_add_nodes=2)
    poller.sleep = sleep
    again = connect().get_ugroup(ugroup.name).wait_unit_applied("slow", 120)
    assert again.state == "RUNNING" and len(again.nodes) == 5


def test_a_failed_node_is_named_with_its_step_and_reason(ugroup):
    spec = _spec(ugroup._sdk)
    with pytest.raises(UnitError) as caught:
        ugroup.create_unit("doomed", spec, num_nodes=3, timeout=120)
    [failure] = caught.value.failures
    assert failure.node == "doomed-2"
    assert failure.step == "spawn"
    assert "fail_spawn_pattern" in failure.reason
    assert "doomed-2 at spawn" in str(caught.value)
    unit = caught.value.unit
    assert unit.state == "ERROR"
    nodes = unit.df_nodes()
    states = dict(zip(nodes["node_name"], nodes["node_state"], strict=True))
    assert states == {
        "doomed-1": "RUNNING",
        "doomed-2": "ERROR",
        "doomed-3": "RUNNING",
    }
    # By name later: the same node, step and reason.
    with pytest.raises(UnitError) as again:
        ugroup.wait_unit_applied("doomed", 60)
    [f] = again.value.failures
    assert (f.node, f.step) == ("doomed-2", "spawn")
    # With no selector the server deletes the failed node first.
    failed_id = next(n.id for n in unit.nodes if n.name == "doomed-2")
    assert unit.delete_nodes(timeout=120) == [failed_id]
    assert unit.state == "RUNNING"
    assert sorted(n.name for n in unit.nodes) == ["doomed-1", "doomed-3"]
