"""The API in process: TestClient over a seeded SQLite cloud, with the
scheduler's casts recorded instead of sent (no flow runs)."""

import dataclasses

import pytest
from fastapi.testclient import TestClient

from arame.api.app import create_app
from arame.api.auth import user_cache
from arame.api.routers import instances as instances_router
from arame.common import ids
from arame.common.db import engine, models
from arame.common.passwords import hash_password


class RecordingScheduler:
    """Stands in for scheduler.rpcapi.SchedulerAPI."""

    def __init__(self):
        self.casts: list[tuple] = []
        # What each instance cast said the instance's provider is.
        self.providers: list[str | None] = []

    def build_instance(self, ctxt, task_id, instance_id, provider=None):
        self.casts.append(("build_instance", task_id, instance_id, ctxt))
        self.providers.append(provider)

    def delete_instance(self, ctxt, task_id, instance_id, provider=None):
        self.casts.append(("delete_instance", task_id, instance_id, ctxt))
        self.providers.append(provider)

    def instance_action(
        self, ctxt, task_id, instance_id, action, provider=None
    ):
        self.casts.append(("instance_action", task_id, instance_id, action))
        self.providers.append(provider)

    def node_action(self, ctxt, task_id, node_id, action):
        self.casts.append(("node_action", task_id, node_id, action))

    def methods(self):
        return [c[0] for c in self.casts]


@pytest.fixture
def scheduler(monkeypatch):
    rec = RecordingScheduler()
    monkeypatch.setattr(instances_router.service, "_scheduler", rec)
    return rec


@pytest.fixture
def fast_hashes(monkeypatch):
    """Cheap scrypt parameters for the users of these tests: the hash keeps
    its parameters, so verification follows them (tests/unit/common/
    test_passwords.py checks the real ones)."""
    from arame.common import passwords

    monkeypatch.setattr(passwords, "_N", 2**4)


@pytest.fixture
def make_client(fast_hashes, cloud, bus, auth_state, scheduler):
    """make_client() -> a TestClient of a new app (reads [api] options now)."""
    made = []

    # Each test's database is new: so is what the API remembers of users.
    user_cache.CACHE.clear()

    def make():
        c = TestClient(create_app())
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def client(make_client):
    return make_client()


def login(client, username, password) -> dict:
    r = client.post(
        "/v1/auth/tokens", json={"username": username, "password": password}
    )
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@dataclasses.dataclass
class Caller:
    headers: dict
    account_id: str
    user_id: str
    username: str


@pytest.fixture
def admin(client, cloud) -> Caller:
    return Caller(
        login(client, "admin", cloud.admin_password),
        "a-admin",
        cloud.admin_id,
        "admin",
    )


@pytest.fixture
def make_user(client):
    """make_user(role, account_id=None) -> a logged-in Caller; a new account
    is made when none is given."""
    counter = iter(range(1000))

    def make(role="member", account_id=None, password="pw-123456"):
        n = next(counter)
        with engine.session() as s:
            if account_id is None:
                account_id = ids.generate("account")
                s.add(models.Account(id=account_id, name=f"acct-{account_id}"))
                s.flush()
            uid = ids.generate("user")
            username = f"{role}{n}-{uid[2:]}"
            s.add(
                models.User(
                    id=uid,
                    username=username,
                    password_hash=hash_password(password),
                    account_id=account_id,
                    role=role,
                )
            )
        return Caller(
            login(client, username, password), account_id, uid, username
        )

    return make


@pytest.fixture
def member(make_user) -> Caller:
    return make_user("member")


def assert_error(r, status, code=None):
    """Every 4xx has the one documented shape."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert set(err) == {"code", "message", "details"}
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["details"], dict)
    if code is not None:
        assert err["code"] == code
    return err


@pytest.fixture
def error_of():
    return assert_error


@pytest.fixture
def create(client, cloud):
    """create(caller, **body) -> the response of POST /v1/instances."""

    def post(caller, headers=None, **body):
        body.setdefault("name", "web-1")
        body.setdefault("flavor", "small")
        body.setdefault("image", cloud.image_id)
        h = dict(caller.headers)
        h.update(headers or {})
        return client.post("/v1/instances", json=body, headers=h)

    return post
