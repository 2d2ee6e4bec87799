import pytest

QUOTA = {
    "account_id": "a-abcd1234",
    "limits": {"instances": 10, "vcpus": 20, "memory_mb": 40960},
    "in_use": {"instances": 1, "vcpus": 2, "memory_mb": 2048},
}


def test_show_flattens_limits_and_use(run, api):
    api.add("GET", "/v1/quotas/a-abcd1234", (200, QUOTA))
    result = run("quota", "show", "a-abcd1234", "-f", "json")
    assert result.code == 0, result.stderr
    assert result.json() == {
        "account_id": "a-abcd1234",
        "instances": 10,
        "instances_in_use": 1,
        "vcpus": 20,
        "vcpus_in_use": 2,
        "memory_mb": 40960,
        "memory_mb_in_use": 2048,
    }


def test_set_sends_only_the_limits_given(run, api):
    api.add("PATCH", "/v1/quotas/a-abcd1234", (200, QUOTA))
    result = run(
        "quota",
        "set",
        "a-abcd1234",
        "--instances",
        "5",
        "--vcpus",
        "-1",
        "--memory-mb",
        "default",
        "-f",
        "json",
    )
    assert result.code == 0, result.stderr
    assert api.bodies("PATCH", "/v1/quotas/a-abcd1234") == [
        {"instances": 5, "vcpus": -1, "memory_mb": None}
    ]


def test_set_refuses_bad_values_and_nothing(run, api):
    for bad in (("--instances", "-5"), ("--vcpus", "many")):
        with pytest.raises(SystemExit):  # argparse's usage error
            run("quota", "set", "a-abcd1234", *bad)
    assert run("quota", "set", "a-abcd1234").code != 0
    assert api.requests == []
