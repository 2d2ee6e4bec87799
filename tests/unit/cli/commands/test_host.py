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
    "vcpus": 16,
    "vcpus_used": 4,
    "memory_mb": 65536,
    "memory_mb_used": 8192,
    "disk_gb": 500,
    "instances": 2,
    "heartbeat_age_s": 3,
    "services": SERVICES,
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
