"""Per-account isolation and roles, through the real API on MariaDB."""

import httpx
import pytest
from conftest import first_image
from sqlalchemy import orm

from arame.common.db import models
from arame.common.passwords import hash_password

pytestmark = pytest.mark.functional


def add_user(engine, account_id, username, role, password="pw-123456"):
    with orm.Session(engine) as s, s.begin():
        if s.get(models.Account, account_id) is None:
            s.add(models.Account(id=account_id, name=account_id))
            s.flush()
        s.add(
            models.User(
                id="u-" + username[:8].ljust(8, "0"),
                username=username,
                role=role,
                account_id=account_id,
                password_hash=hash_password(password),
            )
        )
    return password


def login(dep, username, password):
    r = httpx.post(
        f"{dep.api_url}/v1/auth/tokens",
        json={"username": username, "password": password},
    )
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture(scope="module")
def world(shared_deployment):
    eng = shared_deployment.engine()
    pw = add_user(eng, "a-alpha000", "alice", "member")
    add_user(eng, "a-alpha000", "rita", "reader")
    add_user(eng, "a-beta0000", "bob", "member")
    eng.dispose()
    dep = shared_deployment
    return {
        "alice": login(dep, "alice", pw),
        "rita": login(dep, "rita", pw),
        "bob": login(dep, "bob", pw),
    }


def test_accounts_see_only_their_own(shared_deployment, world):
    url = shared_deployment.api_url
    admin = shared_deployment.client()
    img = first_image(admin)
    r = httpx.post(
        f"{url}/v1/instances",
        headers=world["alice"],
        json={"name": "alice-vm", "flavor": "small", "image": img},
    )
    assert r.status_code == 202
    iid, tid = r.json()["id"], r.json()["task_id"]
    admin.tasks.wait(tid, timeout=60)

    bob = world["bob"]
    for method, path, body in [
        ("GET", f"/v1/instances/{iid}", None),
        ("DELETE", f"/v1/instances/{iid}", None),
        ("POST", f"/v1/instances/{iid}/actions", {"action": "stop"}),
        ("GET", f"/v1/instances/{iid}/console", None),
        ("GET", f"/v1/tasks/{tid}", None),
    ]:
        r = httpx.request(method, url + path, headers=bob, json=body)
        assert r.status_code == 404, (method, path, r.text)
        assert "alice" not in r.text
    assert httpx.get(f"{url}/v1/instances", headers=bob).json()["items"] == []
    assert httpx.get(f"{url}/v1/tasks", headers=bob).json()["items"] == []
    # Alice's instance is still running: nothing Bob did reached it.
    assert admin.instances.get(iid)["status"] == "running"


def test_reader_reads_but_cannot_change(shared_deployment, world):
    url = shared_deployment.api_url
    rita = world["rita"]
    mine = httpx.get(f"{url}/v1/instances", headers=rita).json()["items"]
    assert [i["name"] for i in mine] == ["alice-vm"]
    r = httpx.post(
        f"{url}/v1/instances",
        headers=rita,
        json={"name": "nope", "flavor": "small", "image": mine[0]["image"]},
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = httpx.delete(f"{url}/v1/instances/{mine[0]['id']}", headers=rita)
    assert r.status_code == 403


def test_hosts_are_admin_only(shared_deployment, world):
    r = httpx.get(
        f"{shared_deployment.api_url}/v1/hosts", headers=world["alice"]
    )
    assert r.status_code == 403


def test_revoked_user_token_stops_working(shared_deployment, world):
    """An admin resets bob's password through the API: bob's old token
    fails on his very next request (the API's user cache is dropped at
    the commit, here and on every API process)."""
    url = shared_deployment.api_url
    h = world["bob"]
    assert httpx.get(f"{url}/v1/instances", headers=h).status_code == 200
    admin = shared_deployment.client()
    bob = next(u for u in admin.users.list(all=True) if u["username"] == "bob")
    r = httpx.patch(
        f"{url}/v1/users/{bob['id']}",
        headers={"Authorization": f"Bearer {admin.token}"},
        json={"password": "bob-new-pw-123456"},
    )
    assert r.status_code == 200, r.text
    r = httpx.get(f"{url}/v1/instances", headers=h)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
