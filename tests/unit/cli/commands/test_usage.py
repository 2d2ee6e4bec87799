REC = {
    "id": 7,
    "at": "2026-11-21T06:00:00Z",
    "event": "open",
    "resource_id": "i-abcd1234",
    "resource_type": "instance",
    "flavor": "small",
    "vcpus": 1,
    "memory_mb": 512,
    "account_id": "a-x",
}


def test_usage_list_reads_forward_from_a_marker(run, api):
    api.add("GET", "/v1/usage", (200, {"items": [REC], "next_marker": None}))
    result = run("usage", "list", "--marker", "6", "-f", "json")
    assert result.code == 0 and result.json()[0]["event"] == "open"
    assert api.requests[-1].url.params["marker"] == "6"
