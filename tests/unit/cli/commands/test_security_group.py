import pytest

SG = {
    "id": "sg-aaaaaaaa",
    "name": "web",
    "account_id": "a-aaaaaaaa",
    "description": "",
    "rules_text": "tcp:22,22,ip4:0.0.0.0/0\n",
    "rules": [
        {
            "protocol": "tcp",
            "from_port": 22,
            "to_port": 22,
            "cidr": "0.0.0.0/0",
            "group_id": None,
        },
        {
            "protocol": "tcp",
            "from_port": 3306,
            "to_port": 3306,
            "cidr": None,
            "group_id": "sg-bbbbbbbb",
        },
    ],
    "created_at": "2030-01-01T00:00:00Z",
    "updated_at": "2030-01-01T00:00:00Z",
}


def task(status):
    return {
        "id": "t-aaaaaaaa",
        "status": status,
        "resource_id": "sg-aaaaaaaa",
        "action": "update",
        "error": None,
        "events": [],
    }


def test_create_with_rules_from_a_file(run, api, tmp_path):
    rules = tmp_path / "web.rules"
    rules.write_text("tcp:22,22,ip4:0.0.0.0/0  # ssh\n")
    api.add("POST", "/v1/security_groups", (201, SG))
    result = run(
        "security-group",
        "create",
        "web",
        "--rules-file",
        str(rules),
        "-c",
        "rules",
    )
    assert result.code == 0, result.stderr
    assert "tcp:22,22,ip4:0.0.0.0/0" in result.stdout
    assert "tcp:3306,3306,sg-bbbbbbbb" in result.stdout
    assert api.bodies("POST", "/v1/security_groups") == [
        {"name": "web", "rules_text": "tcp:22,22,ip4:0.0.0.0/0  # ssh\n"}
    ]


def test_update_with_rules_on_the_command_line_and_wait(run, api):
    api.add(
        "PATCH",
        "/v1/security_groups/sg-aaaaaaaa",
        (200, {**SG, "task_id": "t-aaaaaaaa"}),
    )
    api.add(
        "GET",
        "/v1/tasks/t-aaaaaaaa",
        (200, task("running")),
        (200, task("done")),
    )
    result = run(
        "security-group",
        "update",
        "sg-aaaaaaaa",
        "--rule",
        "tcp:22,22,ip4:0.0.0.0/0",
        "--rule",
        "udp:53,53,ip4:10.0.0.0/8",
        "--wait",
        "-f",
        "json",
    )
    assert result.code == 0, result.stderr
    assert result.json()["task_id"] == "t-aaaaaaaa"
    assert api.bodies("PATCH", "/v1/security_groups/sg-aaaaaaaa") == [
        {"rules_text": "tcp:22,22,ip4:0.0.0.0/0\nudp:53,53,ip4:10.0.0.0/8\n"}
    ]


def test_rules_file_and_rule_are_exclusive(run, api, tmp_path):
    f = tmp_path / "r"
    f.write_text("")
    with pytest.raises(SystemExit) as raised:
        run(
            "security-group",
            "create",
            "web",
            "--rules-file",
            str(f),
            "--rule",
            "tcp:1,1,ip4:0.0.0.0",
        )
    assert raised.value.code == 2 and api.requests == []


def test_list_show_delete(run, api):
    api.add(
        "GET",
        "/v1/security_groups",
        (200, {"items": [SG], "next_marker": None}),
    )
    api.add("DELETE", "/v1/security_groups/sg-aaaaaaaa", (204, None))
    assert run("security-group", "list", "-f", "json").json() == [
        {"id": "sg-aaaaaaaa", "name": "web", "description": ""}
    ]
    assert run("security-group", "delete", "sg-aaaaaaaa").code == 0
