"""The unit group and unit managers: paths, bodies and query strings."""

GROUPS = "/v1/unit_groups"
UNITS = "/v1/units"
GROUP = {"id": "ug-aaaaaaaa", "name": "handson", "state": "running"}
UNIT = {"id": "un-aaaaaaaa", "name": "web", "state": "booting"}


def test_unit_group_calls(client, api):
    api.add("POST", GROUPS, (201, GROUP))
    api.add("GET", GROUPS, (200, {"items": [GROUP], "next_marker": None}))
    api.add("GET", f"{GROUPS}/handson", (200, GROUP))
    api.add("DELETE", f"{GROUPS}/handson", (202, {"task_id": "t-1"}))

    assert client.unit_groups.create("handson") == GROUP
    assert client.unit_groups.list(name="handson") == [GROUP]
    assert client.unit_groups.get("handson") == GROUP
    assert client.unit_groups.delete("handson")["task_id"] == "t-1"

    assert api.bodies("POST", GROUPS) == [{"name": "handson"}]
    listed = next(
        r for r in api.requests if r.method == "GET" and r.url.path == GROUPS
    )
    assert listed.url.params["name"] == "handson"


def test_unit_create_sends_only_what_is_given(client, api):
    api.add("POST", UNITS, (202, {**UNIT, "task_id": "t-1"}))
    spec = {"provider": "vm", "flavor": "small", "image": "arame-test"}

    client.units.create("handson", "web", spec, count=2)
    client.units.create("handson", "db", spec, ip_addresses=["10.0.0.5"])

    assert api.bodies("POST", UNITS) == [
        {"unit_group": "handson", "name": "web", "spec": spec, "count": 2},
        {
            "unit_group": "handson",
            "name": "db",
            "spec": spec,
            "ip_addresses": ["10.0.0.5"],
        },
    ]


def test_unit_get_by_name_within_a_group(client, api):
    api.add("GET", f"{UNITS}/web", (200, UNIT))
    api.add("GET", UNITS, (200, {"items": [UNIT], "next_marker": None}))

    assert client.units.get("web", unit_group="handson") == UNIT
    assert client.units.get("web") == UNIT
    assert client.units.list("handson") == [UNIT]

    params = [dict(r.url.params) for r in api.requests]
    assert params == [{"unit_group": "handson"}, {}, {"unit_group": "handson"}]


def test_unit_actions(client, api):
    actions = f"{UNITS}/un-aaaaaaaa/actions"
    api.add("POST", actions, (202, {"task_id": "t-1", "node_ids": []}))
    api.add("PATCH", f"{UNITS}/un-aaaaaaaa", (200, UNIT))
    api.add("DELETE", f"{UNITS}/un-aaaaaaaa", (202, {"task_id": "t-2"}))

    client.units.add_nodes("un-aaaaaaaa", count=3)
    client.units.add_nodes("un-aaaaaaaa", ip_addresses=["10.0.0.7"])
    client.units.delete_nodes("un-aaaaaaaa", node_ids=["i-aaaaaaaa"])
    client.units.delete_nodes("un-aaaaaaaa", count=1)
    client.units.power_off("un-aaaaaaaa")
    client.units.power_on("un-aaaaaaaa", node_ids=["i-aaaaaaaa"])
    client.units.patch("un-aaaaaaaa", name="web2")
    assert client.units.delete("un-aaaaaaaa")["task_id"] == "t-2"

    assert api.bodies("POST", actions) == [
        {"action": "add_nodes", "count": 3},
        {"action": "add_nodes", "ip_addresses": ["10.0.0.7"]},
        {"action": "delete_nodes", "node_ids": ["i-aaaaaaaa"]},
        {"action": "delete_nodes", "count": 1},
        {"action": "power_off"},
        {"action": "power_on", "node_ids": ["i-aaaaaaaa"]},
    ]
    assert api.bodies("PATCH", f"{UNITS}/un-aaaaaaaa") == [{"name": "web2"}]
