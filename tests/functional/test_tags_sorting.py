"""Tags and sorting on MariaDB: tags compared byte for byte (its default
collation would fold case), names sorted by the database's collation with
pages that walk the same order."""

import httpx
import pytest

pytestmark = pytest.mark.functional

NET = {
    "cidr": "10.50.0.0/24",
    "dns_domain": "lab.example",
    "segmentation": "vxlan",
}


@pytest.fixture(scope="module")
def api(shared_deployment):
    dep = shared_deployment
    r = httpx.post(
        f"{dep.api_url}/v1/auth/tokens",
        json={"username": "admin", "password": dep.admin_password},
    )
    assert r.status_code == 201, r.text
    with httpx.Client(
        base_url=dep.api_url,
        timeout=30,
        headers={"Authorization": f"Bearer {r.json()['token']}"},
    ) as c:
        yield c


def test_tags_are_case_sensitive(api):
    for name, tags in (("t-upper", ["Web"]), ("t-lower", ["web", "x"])):
        r = api.post("/v1/networks", json={**NET, "name": name, "tags": tags})
        assert r.status_code == 201, r.text
        assert r.json()["tags"] == sorted(tags)

    def names(*tags):
        r = api.get("/v1/networks", params={"tag": list(tags)})
        assert r.status_code == 200, r.text
        return [n["name"] for n in r.json()["items"]]

    assert names("web") == ["t-lower"]
    assert names("Web") == ["t-upper"]
    assert names("web", "x") == ["t-lower"]
    assert names("WEB") == []
    net = api.get("/v1/networks", params={"name": "t-upper"}).json()["items"][
        0
    ]
    r = api.put(
        f"/v1/networks/{net['id']}/tags", json={"tags": ["web", "Web"]}
    )
    assert r.status_code == 200 and r.json()["tags"] == ["Web", "web"]
    assert sorted(names("web")) == ["t-lower", "t-upper"]


def test_sorted_pages_walk_the_whole_order(api):
    for name in ("s-b", "s-a", "s-d", "s-c", "s-e"):
        r = api.post("/v1/key_pairs", json={"name": name})
        assert r.status_code == 201, r.text
    for sort in ("name", "-name", "created_at", "-created_at"):
        seen, marker = [], None
        while True:
            params = {"limit": 2, "sort": sort, "name": "s-*"}
            if marker:
                params["marker"] = marker
            body = api.get("/v1/key_pairs", params=params).json()
            seen += body["items"]
            marker = body["next_marker"]
            if not marker:
                break
        field = sort.lstrip("-")
        keys = [(k[field], k["id"]) for k in seen]
        assert keys == sorted(keys, reverse=sort.startswith("-")), sort
        assert len(keys) == 5
