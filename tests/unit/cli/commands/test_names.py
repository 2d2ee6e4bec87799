"""Names wherever the CLI takes an id (issue 15), through the SDK."""

from tests.helpers.fakes import error


def page(*items):
    return (200, {"items": list(items), "next_marker": None})


INSTANCE = {
    "id": "i-aaaaaaaa",
    "name": "first",
    "status": "running",
    "flavor": "small",
    "image": "img-aaaaaaaa",
}


def test_create_takes_the_image_and_the_rest_by_name(run, api):
    api.add(
        "GET",
        "/v1/images",
        page({"id": "img-aaaaaaaa", "name": "arame-test"}),
    )
    api.add("GET", "/v1/networks", page({"id": "nw-aaaaaaaa", "name": "lan"}))
    api.add("GET", "/v1/key_pairs", page({"id": "kp-aaaaaaaa", "name": "me"}))
    api.add(
        "GET",
        "/v1/security_groups",
        page({"id": "sg-aaaaaaaa", "name": "web"}),
    )
    api.add(
        "POST",
        "/v1/instances",
        (202, {**INSTANCE, "name": "web1", "task_id": "t-aaaaaaaa"}),
    )

    result = run(
        "instance",
        "create",
        "web1",
        "--flavor",
        "small",
        "--image",
        "arame-test",
        "--network",
        "lan",
        "--security-group",
        "web",
        "--key-pair",
        "me",
        "--key-pair",
        "kp-bbbbbbbb",
        "--root-gb",
        "20",
        "-f",
        "json",
    )

    assert result.code == 0, result.stderr
    assert api.bodies("POST", "/v1/instances") == [
        {
            "name": "web1",
            "flavor": "small",
            "image": "img-aaaaaaaa",
            "network": "nw-aaaaaaaa",
            "security_groups": ["sg-aaaaaaaa"],
            "key_pairs": ["kp-aaaaaaaa", "kp-bbbbbbbb"],
            "root_gb": 20,
        }
    ]


def test_show_takes_a_name(run, api):
    api.add("GET", "/v1/instances", page(INSTANCE))
    api.add("GET", "/v1/instances/i-aaaaaaaa", (200, INSTANCE))

    result = run("instance", "show", "first", "-f", "json")

    assert result.code == 0, result.stderr
    assert result.json()["id"] == "i-aaaaaaaa"


def test_an_ambiguous_name_fails_listing_the_candidates(run, api):
    api.add(
        "GET",
        "/v1/instances",
        page(INSTANCE, {**INSTANCE, "id": "i-bbbbbbbb"}),
    )

    result = run("instance", "delete", "first")

    assert result.code == 1
    assert result.stderr.splitlines() == [
        "Error: 2 instances are named 'first': i-aaaaaaaa, i-bbbbbbbb; "
        "give the id of the one you mean"
    ]
    assert not [r for r in api.requests if r.method == "DELETE"]


def test_an_unknown_name_fails_naming_kind_and_name(run, api):
    api.add("GET", "/v1/images", page())

    result = run(
        "instance", "create", "web1", "--flavor", "small", "--image", "nope"
    )

    assert result.code == 1
    assert result.stderr.splitlines()[0] == (
        "Error (404 not_found): no image named 'nope'"
    )


def test_delete_by_name_shows_the_id(run, api):
    api.add("GET", "/v1/instances", page(INSTANCE))
    api.add(
        "DELETE",
        "/v1/instances/i-aaaaaaaa",
        (202, {**INSTANCE, "task_id": "t-aaaaaaaa"}),
    )

    result = run("instance", "delete", "first", "-f", "json")

    assert result.code == 0, result.stderr
    assert result.json()["id"] == "i-aaaaaaaa"


def test_volume_attach_takes_both_by_name(run, api):
    api.add("GET", "/v1/volumes", page({"id": "vol-aaaaaaaa", "name": "d"}))
    api.add("GET", "/v1/instances", page(INSTANCE))
    api.add(
        "POST",
        "/v1/volumes/vol-aaaaaaaa/actions",
        (202, {"id": "vol-aaaaaaaa", "task_id": "t-aaaaaaaa"}),
    )

    result = run("volume", "attach", "d", "first")

    assert result.code == 0, result.stderr
    assert api.bodies("POST", "/v1/volumes/vol-aaaaaaaa/actions") == [
        {"action": "attach", "instance_id": "i-aaaaaaaa"}
    ]


def test_an_id_the_api_does_not_know_is_its_404(run, api):
    api.add(
        "GET",
        "/v1/key_pairs/kp-aaaaaaaa",
        (404, error("not_found", "key pair kp-aaaaaaaa not found")),
    )

    result = run("key-pair", "show", "kp-aaaaaaaa")

    assert result.code == 1
    assert "key pair kp-aaaaaaaa not found" in result.stderr
