"""Quotas over HTTP: 429 with the limit, the admin sets limits, members read
their own."""

from tests.unit.api.conftest import assert_error


def test_create_over_quota_is_429_with_the_limit(
    client, admin, member, cloud, config
):
    r = client.put(
        f"/v1/quotas/{member.account_id}",
        headers=admin.headers,
        json={"instances": 2},
    )
    assert r.status_code == 200 and r.json()["limits"]["instances"] == 2
    body = {"flavor": "small", "image": cloud.image_id}
    for n in range(2):
        assert (
            client.post(
                "/v1/instances",
                headers=member.headers,
                json={"name": f"q{n}", **body},
            ).status_code
            == 202
        )
    err = assert_error(
        client.post(
            "/v1/instances",
            headers=member.headers,
            json={"name": "q2", **body},
        ),
        429,
        "over_quota",
    )
    assert err["details"] == {
        "resource": "instances",
        "limit": 2,
        "in_use": 2,
        "requested": 1,
    }
    names = [
        i["name"]
        for i in client.get("/v1/instances", headers=member.headers).json()[
            "items"
        ]
    ]
    assert sorted(names) == ["q0", "q1"]  # the refused one left nothing
    q = client.get(
        f"/v1/quotas/{member.account_id}", headers=member.headers
    ).json()
    assert q["in_use"] == {
        "instances": 2,
        "vcpus": 2,
        "memory_mb": 1024,
        "volumes": 0,
        "storage_gb": 0,
        "floating_ips": 0,
    }


def test_only_the_admin_sets_limits_and_accounts_are_isolated(
    client, admin, member, make_user
):
    assert_error(
        client.put(
            f"/v1/quotas/{member.account_id}",
            headers=member.headers,
            json={"instances": 99},
        ),
        403,
    )
    other = make_user("member")
    assert_error(
        client.get(f"/v1/quotas/{other.account_id}", headers=member.headers),
        404,
    )
    assert_error(
        client.put(
            f"/v1/quotas/{member.account_id}",
            headers=admin.headers,
            json={"instances": -2},
        ),
        422,
    )
    r = client.put(
        f"/v1/quotas/{member.account_id}",
        headers=admin.headers,
        json={"instances": None},
    )
    assert r.status_code == 200 and r.json()["limits"]["instances"] == 20
