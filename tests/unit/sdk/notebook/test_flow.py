"""The VCP notebook's calls in order against FakeCloud: frames, waits,
node actions, failures, cleanup."""

import pandas as pd
import pytest

from arame.sdk import UnitError, WaitTimeout
from arame.sdk.notebook import frames


def test_frames_of_nothing_have_their_header(sdk):
    df = sdk.df_ugroups()
    assert isinstance(df, pd.DataFrame) and df.empty
    assert list(df.columns) == list(frames.UGROUP_COLUMNS)
    ugroup = sdk.create_ugroup("handson")
    assert list(ugroup.df_units().columns) == list(frames.UNIT_COLUMNS)
    assert list(ugroup.df_nodes().columns) == list(frames.NODE_COLUMNS)
    assert ugroup.find_ip_addresses() == []


def test_without_pandas_frames_are_lists_of_dicts(sdk, monkeypatch):
    monkeypatch.setattr(frames, "use_pandas", False)
    assert sdk.df_ugroups() == []
    sdk.create_ugroup("handson")
    [row] = sdk.df_ugroups()
    assert row["ugroup_name"] == "handson"
    assert row["ugroup_state"] == "RUNNING"
    assert [f["flavor"] for f in sdk.df_flavors("bm")] == ["bm.std"]


def test_print_of_a_group_shows_name_and_state(sdk):
    ugroup = sdk.create_ugroup("handson")
    assert "name='handson'" in str(ugroup)
    assert "state='RUNNING'" in str(ugroup)
    assert sdk.get_ugroup("handson").id == ugroup.id
    assert [g.name for g in sdk.find_ugroups()] == ["handson"]


def test_df_flavors_of_a_provider(sdk):
    df = sdk.df_flavors("vm")
    assert list(df["flavor"]) == ["small", "large"]
    assert list(df.columns) == list(frames.FLAVOR_COLUMNS)


def test_create_unit_waits_until_every_node_runs(sdk, cloud, spec, clock):
    ugroup = sdk.create_ugroup("handson")
    spec.volume_size = 15
    unit = ugroup.create_unit("web", spec, num_nodes=3)

    assert unit.state == "RUNNING"
    assert [n.state for n in unit.nodes] == ["RUNNING"] * 3
    assert cloud.sent("POST", "/v1/units") == [
        {
            "unit_group": ugroup.id,
            "name": "web",
            "spec": {
                "provider": "vm",
                "flavor": "small",
                "image": "arame-test",
                "root_gb": 15,
            },
            "count": 3,
        }
    ]
    assert clock.slept and all(s == 1.0 for s in clock.slept)
    df = ugroup.df_nodes()
    assert list(df["node_state"]) == ["RUNNING"] * 3
    assert set(df["unit_name"]) == {"web"}
    assert str(df["created_at"].dtype).startswith("datetime64")
    assert len(ugroup.find_ip_addresses(node_state="RUNNING")) == 3
    assert ugroup.find_ip_addresses(node_state="ERROR") == []
    assert ugroup.df_units()["unit_state"].tolist() == ["RUNNING"]
    assert sdk.df_nodes()["node_id"].tolist() == [n.id for n in unit.nodes]


def test_a_unit_not_waited_for_is_found_by_name_and_waited_on(
    sdk, make_sdk, spec
):
    ugroup = sdk.create_ugroup("handson")
    unit = ugroup.create_unit("web", spec, num_nodes=2, wait_for=False)
    assert unit.state == "BOOTING"
    assert ugroup.df_units()["unit_state"].tolist() == ["BOOTING"]

    # A new kernel: nothing but names.
    again = make_sdk().get_ugroup("handson").wait_unit_applied("web")
    assert again.id == unit.id and again.state == "RUNNING"


def test_a_timed_out_wait_names_the_unit_and_can_be_resumed(
    sdk, cloud, spec, clock
):
    ugroup = sdk.create_ugroup("handson")
    cloud.frozen = True
    with pytest.raises(WaitTimeout) as caught:
        ugroup.create_unit("web", spec, timeout=5)
    assert "unit 'web'" in str(caught.value)
    assert "wait_unit_applied" in str(caught.value)
    assert clock.now == 5
    cloud.frozen = False
    assert ugroup.wait_unit_applied("web").state == "RUNNING"


def test_an_interrupted_wait_changes_nothing_and_re_raises(
    sdk, cloud, spec, clock
):
    ugroup = sdk.create_ugroup("handson")

    def interrupt(seconds):
        raise KeyboardInterrupt

    sdk.poller.sleep = interrupt
    with pytest.raises(KeyboardInterrupt):
        ugroup.create_unit("web", spec, num_nodes=2)
    assert not [r for r in cloud.requests if r.method == "DELETE"]
    sdk.poller.sleep = clock.sleep
    assert ugroup.wait_unit_applied("web").state == "RUNNING"


def test_failed_nodes_are_named_with_their_step_and_reason(sdk, cloud, spec):
    ugroup = sdk.create_ugroup("handson")
    cloud.fail["web-2"] = "no host with 512 MB free"
    with pytest.raises(UnitError) as caught:
        ugroup.create_unit("web", spec, num_nodes=3)
    [failure] = caught.value.failures
    assert failure.node == "web-2"
    assert failure.step == "spawn"
    assert failure.reason == "no host with 512 MB free"
    assert failure.host == "hv1"
    assert "web-2 at spawn on hv1: no host with 512 MB free" in str(
        caught.value
    )
    unit = caught.value.unit
    assert unit.state == "ERROR"
    assert [n.state for n in unit.nodes] == ["RUNNING", "ERROR", "RUNNING"]
    # The same by name later: the unit's reason, the step from the node's
    # own last task.
    with pytest.raises(UnitError) as again:
        ugroup.wait_unit_applied("web")
    [f] = again.value.failures
    assert (f.node, f.step, f.reason) == ("web-2", "spawn", "qemu exited")
    # The failed node goes, the others stay.
    failed_id = unit.nodes[1].id
    assert unit.delete_nodes(node_id=failed_id) == [failed_id]
    assert unit.state == "RUNNING" and len(unit.nodes) == 2


def test_add_and_delete_nodes(sdk, cloud, spec):
    ugroup = sdk.create_ugroup("handson")
    unit = ugroup.create_unit("web", spec)
    actions = f"/v1/units/{unit.id}/actions"

    added = unit.add_nodes()
    assert len(added) == 1 and added[0].state == "RUNNING"
    added = unit.add_nodes(num_add_nodes=2)
    assert len(unit.nodes) == 4
    unit.add_nodes(ip_address="172.30.2.30")
    unit.add_nodes(ip_address=["172.30.2.31", "172.30.2.32"])
    assert "172.30.2.31" in unit.find_ip_addresses(node_state="RUNNING")
    unit.delete_nodes(ip_address="172.30.2.30")
    unit.delete_nodes(node_id=[added[0].id])
    unit.delete_nodes()
    unit.delete_nodes(num_delete_nodes=2)

    assert cloud.sent("POST", actions) == [
        {"action": "add_nodes", "count": 1},
        {"action": "add_nodes", "count": 2},
        {"action": "add_nodes", "ip_addresses": ["172.30.2.30"]},
        {
            "action": "add_nodes",
            "ip_addresses": ["172.30.2.31", "172.30.2.32"],
        },
        {"action": "delete_nodes", "ip_addresses": ["172.30.2.30"]},
        {"action": "delete_nodes", "node_ids": [added[0].id]},
        {"action": "delete_nodes", "count": 1},
        {"action": "delete_nodes", "count": 2},
    ]
    assert len(unit.nodes) == 2
    assert list(unit.df_nodes()["unit_name"]) == ["web", "web"]


def test_power_off_and_on(sdk, spec):
    ugroup = sdk.create_ugroup("handson")
    unit = ugroup.create_unit("web", spec, num_nodes=2)
    assert unit.power_off().state == "POWER_OFF"
    assert unit.find_ip_addresses(node_state="POWER_OFF") == [
        n.ip_address for n in unit.nodes
    ]
    assert unit.power_on().state == "RUNNING"


def test_units_of_two_providers_and_finding_them(sdk, spec):
    ugroup = sdk.create_ugroup("handson")
    ugroup.create_unit("vm-server", spec)
    bm = sdk.get_spec("bm", "bm.std", image="arame-test")
    ugroup.create_unit("bm-server", bm)
    assert [u.name for u in ugroup.find_units()] == ["vm-server", "bm-server"]
    assert ugroup.get_unit("bm-server").spec["provider"] == "bm"
    assert sdk.get_unit("bm-server", ugroup="handson").name == "bm-server"
    assert ugroup.df_nodes()["provider"].tolist() == ["vm", "bm"]


def test_cleanup_leaves_nothing_and_frees_the_name(sdk, cloud, spec):
    ugroup = sdk.create_ugroup("handson")
    ugroup.create_unit("web", spec, num_nodes=2)
    ugroup.refresh()
    ugroup.cleanup()
    assert sdk.df_ugroups().empty
    assert cloud.nodes == {}
    assert sdk.create_ugroup("handson").state == "RUNNING"


def test_node_metrics_are_a_frame(sdk, spec):
    ugroup = sdk.create_ugroup("handson")
    [node] = ugroup.create_unit("web", spec).nodes
    df = node.metrics()
    assert list(df.columns) == list(frames.METRIC_COLUMNS)
    assert df["cpu_percent"].tolist() == [12.5]


def test_a_spec_without_image_is_refused_before_any_request(sdk, cloud):
    ugroup = sdk.create_ugroup("handson")
    with pytest.raises(ValueError, match="spec.image"):
        ugroup.create_unit("web", sdk.get_spec("vm", "small"))
    assert cloud.sent("POST", "/v1/units") == []
