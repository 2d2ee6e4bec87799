FLAVOR = {
    "name": "m1.small",
    "provider": "vm",
    "vcpus": 1,
    "memory_mb": 2048,
    "disk_gb": 20,
}


def test_list_json(run, api):
    api.add(
        "GET", "/v1/flavors", (200, {"items": [FLAVOR], "next_marker": None})
    )

    result = run("flavor", "list", "-f", "json")

    assert (result.code, result.json()) == (0, [FLAVOR])
