from tests.helpers.fakes import error

ACCT = {
    "id": "a-abcd1234",
    "name": "acme",
    "enabled": True,
    "created_at": "2026-11-21T00:00:00Z",
    "updated_at": "2026-11-21T00:00:00Z",
}


def test_create_list_show_delete(run, api):
    api.add("POST", "/v1/accounts", (201, ACCT))
    api.add(
        "GET", "/v1/accounts", (200, {"items": [ACCT], "next_marker": None})
    )
    api.add("GET", "/v1/accounts/a-abcd1234", (200, ACCT))
    api.add("DELETE", "/v1/accounts/a-abcd1234", (204, None))
    created = run("account", "create", "acme", "-f", "json")
    assert created.code == 0 and created.json()["id"] == "a-abcd1234"
    assert api.bodies("POST", "/v1/accounts") == [{"name": "acme"}]
    listed = run("account", "list", "--sort=-name", "-f", "json")
    assert listed.json() == [
        {"id": "a-abcd1234", "name": "acme", "enabled": True}
    ]
    assert api.requests[-1].url.params["sort"] == "-name"
    assert run("account", "show", "a-abcd1234", "-f", "json").json() == ACCT
    assert run("account", "delete", "a-abcd1234").code == 0


def test_disable_enable_and_rename(run, api):
    api.add("PATCH", "/v1/accounts/a-abcd1234", (200, ACCT))
    assert run("account", "disable", "a-abcd1234", "-f", "json").code == 0
    assert run("account", "enable", "a-abcd1234", "-f", "json").code == 0
    assert (
        run(
            "account", "set", "a-abcd1234", "--name", "acme2", "-f", "json"
        ).code
        == 0
    )
    assert api.bodies("PATCH", "/v1/accounts/a-abcd1234") == [
        {"enabled": False},
        {"enabled": True},
        {"name": "acme2"},
    ]


def test_api_error_is_one_line_and_exit_1(run, api):
    api.add(
        "DELETE",
        "/v1/accounts/a-abcd1234",
        (409, error("conflict", "account a-abcd1234 still has users")),
    )
    result = run("account", "delete", "a-abcd1234")
    assert result.code == 1
    assert (
        "Error (409 conflict): account a-abcd1234 still has users"
        in result.stderr
    )
