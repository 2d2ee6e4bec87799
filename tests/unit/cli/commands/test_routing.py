"""arame router ... and arame floating-ip ... against the stand-in API."""

import httpx

from tests.helpers.fakes import error

ROUTERS = "/v1/routers"
ROUTER_PATH = "/v1/routers/rt-aaaaaaaa"
FIPS = "/v1/floating_ips"
ACTIONS = "/v1/floating_ips/fip-aaaaaaaa/actions"
ROUTER = {
    "id": "rt-aaaaaaaa",
    "name": "edge",
    "account_id": "a-aaaaaaaa",
    "status": "active",
    "error": None,
    "host": "net1",
    "external_network": "nw-eeeeeeee",
    "external_address": "203.0.113.10",
    "networks": [
        {"id": "nw-aaaaaaaa", "cidr": "10.0.0.0/24", "address": "10.0.0.1"}
    ],
    "floating_ips": 1,
    "created_at": "2030-01-01T00:00:00Z",
    "updated_at": "2030-01-01T00:00:00Z",
}
FIP = {
    "id": "fip-aaaaaaaa",
    "address": "203.0.113.20",
    "network_id": "nw-eeeeeeee",
    "account_id": "a-aaaaaaaa",
    "instance_id": None,
    "fixed_address": None,
    "router_id": None,
    "status": "down",
    "created_at": "2030-01-01T00:00:00Z",
    "updated_at": "2030-01-01T00:00:00Z",
}
NETWORKS = [
    {"id": "nw-eeeeeeee", "name": "public"},
    {"id": "nw-aaaaaaaa", "name": "lab"},
    {"id": "nw-bbbbbbbb", "name": "db"},
]


def named(*items):
    """A collection answering ?name= with the items of that name."""

    def answer(request):
        name = request.url.params.get("name")
        return httpx.Response(
            200,
            json={"items": [i for i in items if name in (None, i["name"])]},
        )

    return answer


def task(status="done", err=None):
    return (
        200,
        {
            "id": "t-aaaaaaaa",
            "status": status,
            "events": [{"step": "apply", "status": status, "host": "net1"}],
            "error": err,
        },
    )


def building(**more):
    return (
        202,
        {**ROUTER, "status": "building", **more, "task_id": "t-aaaaaaaa"},
    )


def test_router_create_with_names_and_wait(run, api):
    api.add("GET", "/v1/networks", named(*NETWORKS))
    api.add("POST", ROUTERS, building())
    api.add("GET", "/v1/tasks/t-aaaaaaaa", task())
    api.add("GET", ROUTER_PATH, (200, ROUTER))

    result = run(
        "router",
        "create",
        "edge",
        "--external-network",
        "public",
        "--network",
        "lab",
        "--wait",
        "-f",
        "json",
    )

    assert result.code == 0, result.stderr
    assert api.bodies("POST", ROUTERS) == [
        {
            "name": "edge",
            "external_network": "nw-eeeeeeee",
            "networks": ["nw-aaaaaaaa"],
        }
    ]
    shown = result.json()
    assert shown["status"] == "active"
    assert shown["task_id"] == "t-aaaaaaaa"
    assert shown["networks"] == ROUTER["networks"]


def test_router_list_and_show_in_a_table(run, api):
    api.add("GET", ROUTERS, named(ROUTER))
    api.add("GET", ROUTER_PATH, (200, ROUTER))

    listed = run("router", "list", "-f", "json")
    shown = run("router", "show", "edge", "-f", "table", "-c", "networks")

    assert listed.code == shown.code == 0, listed.stderr + shown.stderr
    [row] = listed.json()
    assert row["external_address"] == "203.0.113.10"
    assert row["floating_ips"] == 1
    assert "10.0.0.1 on nw-aaaaaaaa (10.0.0.0/24)" in shown.stdout


def test_router_add_and_remove_network_patch_the_whole_list(run, api):
    api.add("GET", "/v1/networks", named(*NETWORKS))
    api.add("GET", ROUTERS, named(ROUTER))
    api.add("GET", ROUTER_PATH, (200, ROUTER))
    api.add("PATCH", ROUTER_PATH, building())

    added = run("router", "add-network", "edge", "db", "-f", "json")
    removed = run("router", "remove-network", "edge", "lab", "-f", "json")

    assert added.code == removed.code == 0, added.stderr + removed.stderr
    assert api.bodies("PATCH", ROUTER_PATH) == [
        {"networks": ["nw-aaaaaaaa", "nw-bbbbbbbb"]},
        {"networks": []},
    ]
    assert added.json()["task_id"] == "t-aaaaaaaa"
    assert added.json()["status"] == "building"


def test_router_gateway_set_unset_and_rename(run, api):
    api.add("GET", "/v1/networks", named(*NETWORKS))
    api.add("PATCH", ROUTER_PATH, building())

    results = [
        run("router", "set-gateway", "rt-aaaaaaaa", "public"),
        run("router", "unset-gateway", "rt-aaaaaaaa"),
        run("router", "set", "rt-aaaaaaaa", "--name", "edge2"),
    ]

    assert [r.code for r in results] == [0, 0, 0], results
    assert api.bodies("PATCH", ROUTER_PATH) == [
        {"external_network": "nw-eeeeeeee"},
        {"external_network": None},
        {"name": "edge2"},
    ]


def test_router_delete_refused_says_why(run, api):
    api.add(
        "DELETE",
        ROUTER_PATH,
        (
            409,
            error(
                "conflict",
                "router rt-aaaaaaaa carries floating IPs: 203.0.113.20",
            ),
        ),
    )

    result = run("router", "delete", "rt-aaaaaaaa")

    assert result.code == 1
    assert "carries floating IPs: 203.0.113.20" in result.stderr


def test_router_delete_waits_for_its_task(run, api):
    api.add("DELETE", ROUTER_PATH, building(status="deleting"))
    api.add("GET", "/v1/tasks/t-aaaaaaaa", task())

    result = run("router", "delete", "rt-aaaaaaaa", "--wait", "-f", "json")

    assert result.code == 0, result.stderr
    assert result.json() == {
        "id": "rt-aaaaaaaa",
        "action": "delete",
        "task_id": "t-aaaaaaaa",
        "task_status": "done",
    }


def test_a_failed_router_task_exits_1_naming_the_step(run, api):
    api.add("PATCH", ROUTER_PATH, building())
    api.add(
        "GET",
        "/v1/tasks/t-aaaaaaaa",
        task("failed", {"step": "host", "message": "no L3 agent is up"}),
    )

    result = run("router", "unset-gateway", "rt-aaaaaaaa", "--wait")

    assert result.code == 1
    assert "no L3 agent is up" in result.stderr


def test_floating_ip_create_list_show_by_address(run, api):
    api.add("GET", "/v1/networks", named(*NETWORKS))
    api.add("POST", FIPS, (201, FIP))
    api.add("GET", FIPS, (200, {"items": [FIP]}))

    made = run("floating-ip", "create", "public", "--address", "203.0.113.20")
    listed = run("floating-ip", "list", "--network", "public", "-f", "json")
    shown = run("floating-ip", "show", "203.0.113.20", "-f", "json")

    assert made.code == listed.code == shown.code == 0, made.stderr
    assert api.bodies("POST", FIPS) == [
        {"network": "nw-eeeeeeee", "address": "203.0.113.20"}
    ]
    assert listed.json()[0]["address"] == "203.0.113.20"
    assert shown.json()["id"] == "fip-aaaaaaaa"
    params = [
        dict(r.url.params)
        for r in api.requests
        if r.method == "GET" and r.url.path == FIPS
    ]
    assert params[0] == {"network": "nw-eeeeeeee"}


def test_floating_ip_outside_the_pool_is_refused(run, api):
    api.add(
        "POST",
        FIPS,
        (
            422,
            error(
                "invalid",
                "203.0.114.5 is not in the pool of network nw-eeeeeeee",
            ),
        ),
    )

    result = run(
        "floating-ip", "create", "nw-eeeeeeee", "--address", "203.0.114.5"
    )

    assert result.code == 1
    assert "not in the pool" in result.stderr


def test_floating_ip_associate_waits_and_shows_the_record(run, api):
    api.add("GET", "/v1/instances", named({"id": "i-aaaaaaaa", "name": "web"}))
    api.add("GET", FIPS, (200, {"items": [FIP]}))
    api.add("POST", ACTIONS, (202, {**FIP, "task_id": "t-aaaaaaaa"}))
    api.add("GET", "/v1/tasks/t-aaaaaaaa", task())
    associated = {
        **FIP,
        "status": "active",
        "instance_id": "i-aaaaaaaa",
        "fixed_address": "10.0.0.5",
        "router_id": "rt-aaaaaaaa",
    }
    api.add("GET", "/v1/floating_ips/fip-aaaaaaaa", (200, associated))

    result = run(
        "floating-ip",
        "associate",
        "203.0.113.20",
        "web",
        "--fixed-address",
        "10.0.0.5",
        "--wait",
        "-f",
        "json",
    )

    assert result.code == 0, result.stderr
    assert api.bodies("POST", ACTIONS) == [
        {"associate": {"instance": "i-aaaaaaaa", "ip_address": "10.0.0.5"}}
    ]
    assert result.json()["fixed_address"] == "10.0.0.5"
    assert result.json()["status"] == "active"


def test_floating_ip_associate_refused_without_a_router(run, api):
    message = (
        "no router of yours joins network nw-aaaaaaaa "
        "to external network nw-eeeeeeee"
    )
    api.add("POST", ACTIONS, (409, error("conflict", message)))

    result = run("floating-ip", "associate", "fip-aaaaaaaa", "i-aaaaaaaa")

    assert result.code == 1
    assert message in result.stderr


def test_floating_ip_disassociate(run, api):
    api.add("POST", ACTIONS, (202, {**FIP, "task_id": "t-aaaaaaaa"}))

    result = run("floating-ip", "disassociate", "fip-aaaaaaaa", "-f", "json")

    assert result.code == 0, result.stderr
    assert api.bodies("POST", ACTIONS) == [{"disassociate": {}}]
    assert result.json()["task_id"] == "t-aaaaaaaa"


def test_floating_ip_delete_with_and_without_a_task(run, api):
    path = "/v1/floating_ips/fip-aaaaaaaa"
    api.add("DELETE", path, (204, None), (202, {"task_id": "t-aaaaaaaa"}))
    api.add("GET", "/v1/tasks/t-aaaaaaaa", task())

    at_once = run("floating-ip", "delete", "fip-aaaaaaaa", "-f", "json")
    waited = run(
        "floating-ip", "delete", "fip-aaaaaaaa", "--wait", "-f", "json"
    )

    assert at_once.code == waited.code == 0, at_once.stderr + waited.stderr
    assert at_once.json() == {"id": "fip-aaaaaaaa", "action": "release"}
    assert waited.json() == {
        "id": "fip-aaaaaaaa",
        "action": "release",
        "task_id": "t-aaaaaaaa",
        "task_status": "done",
    }


def test_network_create_external_flat(run, api):
    external = {
        "id": "nw-eeeeeeee",
        "name": "public",
        "cidr": "203.0.113.0/24",
        "gateway": "203.0.113.1",
        "segmentation": "flat",
        "segment_id": None,
        "external": True,
        "physical_network": "public",
        "dhcp_address": None,
    }
    api.add("POST", "/v1/networks", (201, external))

    result = run(
        "network",
        "create",
        "public",
        "--cidr",
        "203.0.113.0/24",
        "--dns-domain",
        "public.example",
        "--segmentation",
        "flat",
        "--external",
        "--physical-network",
        "public",
        "--dhcp-range",
        "203.0.113.10-203.0.113.99",
        "-f",
        "json",
    )

    assert result.code == 0, result.stderr
    [body] = api.bodies("POST", "/v1/networks")
    assert body == {
        "name": "public",
        "cidr": "203.0.113.0/24",
        "dns_domain": "public.example",
        "segmentation": "flat",
        "dhcp_ranges": [["203.0.113.10", "203.0.113.99"]],
        "external": True,
        "physical_network": "public",
    }
    assert result.json()["external"] is True


def test_an_answer_without_a_task_is_shown_as_it_is_even_with_wait(run, api):
    # The API's records carry "task_id": null where nothing was started.
    api.add("POST", FIPS, (201, {**FIP, "task_id": None}))
    api.add("PATCH", ROUTER_PATH, (202, {**ROUTER, "task_id": None}))

    made = run(
        "floating-ip",
        "create",
        "nw-eeeeeeee",
        "--idempotency-key",
        "k-1",
        "-f",
        "json",
    )
    renamed = run("router", "set", "rt-aaaaaaaa", "--name", "x", "--wait")

    assert made.code == renamed.code == 0, made.stderr + renamed.stderr
    assert made.json()["task_id"] is None
    [request] = [r for r in api.requests if r.method == "POST"]
    assert request.headers["Idempotency-Key"] == "k-1"
    assert not [r for r in api.requests if "/tasks/" in r.url.path]
