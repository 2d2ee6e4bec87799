"""image delete, instance set-security-groups, version (issue 15)."""

from tests.helpers.fakes import error


def test_image_delete_by_name(run, api):
    api.add(
        "GET",
        "/v1/images",
        (200, {"items": [{"id": "img-aaaaaaaa", "name": "old"}]}),
    )
    api.add("DELETE", "/v1/images/img-aaaaaaaa", (204, None))

    result = run("image", "delete", "old")

    assert result.code == 0, result.stderr
    assert api.requests[-1].method == "DELETE"


def test_image_delete_refused_says_what_uses_it(run, api):
    api.add(
        "DELETE",
        "/v1/images/img-aaaaaaaa",
        (409, error("conflict", "image img-aaaaaaaa is used by i-aaaaaaaa")),
    )

    result = run("image", "delete", "img-aaaaaaaa")

    assert result.code == 1
    assert "used by i-aaaaaaaa" in result.stderr


def test_set_security_groups_waits_for_the_task(run, api):
    api.add(
        "GET",
        "/v1/security_groups",
        (200, {"items": [{"id": "sg-bbbbbbbb", "name": "web"}]}),
    )
    api.add(
        "PUT",
        "/v1/instances/i-aaaaaaaa/security_groups",
        (202, {"id": "i-aaaaaaaa", "task_id": "t-aaaaaaaa"}),
    )
    api.add(
        "GET",
        "/v1/tasks/t-aaaaaaaa",
        (
            200,
            {
                "id": "t-aaaaaaaa",
                "status": "done",
                "events": [
                    {"step": "firewall", "status": "done", "host": "hv1"}
                ],
            },
        ),
    )

    result = run(
        "instance",
        "set-security-groups",
        "i-aaaaaaaa",
        "sg-aaaaaaaa",
        "web",
        "--wait",
        "-f",
        "json",
    )

    assert result.code == 0, result.stderr
    assert api.bodies("PUT", "/v1/instances/i-aaaaaaaa/security_groups") == [
        {"security_groups": ["sg-aaaaaaaa", "sg-bbbbbbbb"]}
    ]
    assert result.json() == {
        "id": "i-aaaaaaaa",
        "action": "set_security_groups",
        "task_id": "t-aaaaaaaa",
        "task_status": "done",
    }
    assert result.stderr.splitlines() == ["firewall: done on hv1"]


def test_version_shows_both_ends(run, api):
    api.add(
        "GET",
        "/v1/version",
        (
            200,
            {
                "api_version": "1.1",
                "version": "0.9.0",
                "build": "abc123",
                "features": ["unit_groups", "metrics"],
            },
        ),
    )

    result = run("version", "-f", "json")

    assert result.code == 0, result.stderr
    shown = result.json()
    assert shown["api_version"] == "1.1"
    assert shown["features"] == ["unit_groups", "metrics"]
    assert shown["client_version"]


def test_version_as_a_table_lists_the_features(run, api):
    api.add(
        "GET",
        "/v1/version",
        (200, {"api_version": "1.1", "features": ["a", "b"]}),
    )

    result = run("version", "-c", "features")

    assert "| features | a, b" in result.stdout
