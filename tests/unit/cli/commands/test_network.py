import pytest

from tests.helpers.fakes import error

NET = {
    "id": "nw-aaaaaaaa",
    "name": "n1",
    "account_id": "a-aaaaaaaa",
    "shared": False,
    "ip_version": 4,
    "cidr": "10.1.0.0/24",
    "gateway": "10.1.0.1",
    "dns_domain": "lab",
    "dhcp_ranges": [["10.1.0.10", "10.1.0.20"], ["10.1.0.30", "10.1.0.40"]],
    "segmentation": "vxlan",
    "segment_id": 4242,
    "mtu": 1450,
    "created_at": "2030-01-01T00:00:00Z",
    "updated_at": "2030-01-01T00:00:00Z",
}


def test_create_sends_only_what_was_given(run, api):
    api.add("POST", "/v1/networks", (201, NET))
    result = run(
        "network",
        "create",
        "n1",
        "--cidr",
        "10.1.0.0/24",
        "--dns-domain",
        "lab",
        "--dhcp-range",
        "10.1.0.10-10.1.0.20",
        "--dhcp-range",
        "10.1.0.30-10.1.0.40",
        "-f",
        "json",
    )
    assert result.code == 0, result.stderr
    assert result.json()["dhcp_ranges"] == NET["dhcp_ranges"]
    assert api.bodies("POST", "/v1/networks") == [
        {
            "name": "n1",
            "cidr": "10.1.0.0/24",
            "dns_domain": "lab",
            "segmentation": "vxlan",
            "dhcp_ranges": [
                ["10.1.0.10", "10.1.0.20"],
                ["10.1.0.30", "10.1.0.40"],
            ],
        }
    ]


def test_create_shared_vlan(run, api):
    api.add("POST", "/v1/networks", (201, NET))
    run(
        "network",
        "create",
        "n1",
        "--cidr",
        "10.1.0.0/24",
        "--dns-domain",
        "lab",
        "--segmentation",
        "vlan",
        "--segment-id",
        "7",
        "--shared",
    )
    body = api.bodies("POST", "/v1/networks")[0]
    assert (body["segmentation"], body["segment_id"], body["shared"]) == (
        "vlan",
        7,
        True,
    )


def test_bad_range_is_a_usage_error_before_any_request(run, api, capsys):
    with pytest.raises(SystemExit) as raised:
        run(
            "network",
            "create",
            "n1",
            "--cidr",
            "10.1.0.0/24",
            "--dns-domain",
            "lab",
            "--dhcp-range",
            "10.1.0.10",
        )
    assert raised.value.code == 2
    assert "expected FIRST-LAST" in capsys.readouterr().err
    assert api.requests == []


def test_show_renders_ranges_and_list_the_columns(run, api):
    api.add("GET", "/v1/networks/nw-aaaaaaaa", (200, NET))
    api.add(
        "GET", "/v1/networks", (200, {"items": [NET], "next_marker": None})
    )
    shown = run("network", "show", "nw-aaaaaaaa", "-c", "dhcp_ranges")
    assert "10.1.0.10-10.1.0.20, 10.1.0.30-10.1.0.40" in shown.stdout
    rows = run("network", "list", "-f", "json").json()
    assert rows == [
        {
            "id": "nw-aaaaaaaa",
            "name": "n1",
            "cidr": "10.1.0.0/24",
            "segmentation": "vxlan",
            "segment_id": 4242,
            "shared": False,
            "external": None,
        }
    ]


def test_delete_in_use_says_why(run, api):
    api.add(
        "DELETE",
        "/v1/networks/nw-aaaaaaaa",
        (
            409,
            error(
                "conflict",
                "network nw-aaaaaaaa still has instances with addresses "
                "on it: i-aaaaaaaa",
            ),
        ),
    )
    result = run("network", "delete", "nw-aaaaaaaa")
    assert result.code == 1
    assert "still has instances" in result.stderr
