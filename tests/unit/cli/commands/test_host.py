from tests.helpers.fakes import error

SERVICES = [
    {
        "binary": "arame-hva",
        "topic": "hva",
        "version": "1.0",
        "state": "up",
        "heartbeat_age_s": 3,
        "last_heartbeat_at": "2030-01-01T00:00:00Z",
    },
    {
        "binary": "arame-nsa",
        "topic": "nsa",
        "version": "1.0",
        "state": "down",
        "heartbeat_age_s": 300,
        "last_heartbeat_at": "2030-01-01T00:00:00Z",
    },
]
HOST = {
    "name": "hv1",
    "hypervisor_type": "kvm",
    "state": "up",
    "enabled": True,
    "maintenance": False,
    "vcpus": 16,
    "vcpus_used": 4,
    "memory_mb": 65536,
    "memory_mb_used": 8192,
    "disk_gb": 500,
    "instances": 2,
    "heartbeat_age_s": 3,
    "services": SERVICES,
    "disabled_reason": None,
    "maintenance_reason": None,
}


def test_list_json_keeps_services_structured(run, api):
    api.add("GET", "/v1/hosts", (200, {"items": [HOST], "next_marker": None}))

    result = run("host", "list", "-f", "json")

    assert result.code == 0
    assert result.json() == [HOST]


def test_list_table_summarises_services(run, api):
    api.add("GET", "/v1/hosts", (200, {"items": [HOST], "next_marker": None}))

    result = run("host", "list", "-c", "name", "-c", "services")

    assert "| hv1  | arame-hva up, arame-nsa down |" in result.stdout


def test_non_admin_is_refused_cleanly(run, api):
    api.add("GET", "/v1/hosts", (403, error("forbidden", "admin only")))

    result = run("host", "list")

    assert (result.code, result.stderr) == (
        1,
        "Error (403 forbidden): admin only\n",
    )


def test_list_shows_hosts_out_of_service(run, api):
    off = {**HOST, "enabled": False, "disabled_reason": "bad disk"}
    api.add("GET", "/v1/hosts", (200, {"items": [off], "next_marker": None}))

    result = run(
        "host", "list", "-c", "name", "-c", "enabled", "-c", "disabled_reason"
    )

    assert "| hv1  | False   | bad disk        |" in result.stdout


def test_show_by_name(run, api):
    api.add("GET", "/v1/hosts/hv1", (200, {**HOST, "id": "hn-abcd1234"}))

    result = run("host", "show", "hv1", "-f", "json")

    assert result.code == 0
    assert result.json()["id"] == "hn-abcd1234"


def test_disable_enable_and_maintenance_send_their_bodies(run, api):
    url = "/v1/hosts/hv1"
    api.add("PATCH", url, *[(200, HOST)] * 4)

    assert run("host", "disable", "hv1", "--reason", "bad disk").code == 0
    assert run("host", "enable", "hv1").code == 0
    assert run("host", "maintenance", "hv1", "--reason", "bios").code == 0
    assert run("host", "maintenance", "hv1", "--off").code == 0

    assert api.bodies("PATCH", url) == [
        {"enabled": False, "reason": "bad disk"},
        {"enabled": True},
        {"maintenance": True, "reason": "bios"},
        {"maintenance": False},
    ]


def test_a_refused_change_says_why(run, api):
    api.add(
        "PATCH",
        "/v1/hosts/ctl",
        (409, error("conflict", "host ctl runs no hypervisor")),
    )

    result = run("host", "disable", "ctl")

    assert (result.code, result.stderr) == (
        1,
        "Error (409 conflict): host ctl runs no hypervisor\n",
    )
