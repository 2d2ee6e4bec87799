"""Every route × every role: the cloud admin, a member and a reader of
account A, and a member of account B, each against resources of A.

Only the combinations the table allows succeed; the others get 403 or 404
in the REST error shape and never any of A's data. The routes come from the
application itself: a new route fails `test_every_route_is_classified`
(with its name) until it has a row here.
"""

import dataclasses
import re
from collections.abc import Callable

import pytest
from fastapi.routing import APIRoute

from arame.api.app import create_app
from arame.common import ids
from arame.common.db import engine, models
from tests.unit.api.conftest import assert_error

# A's resources carry this in their names: no answer to B may contain it.
MARK = "zq7mark"
A_NAMES = {
    "instance": f"{MARK}-i",
    "network": f"{MARK}-n",
    "security_group": f"{MARK}-g",
    "key_pair": f"{MARK}-k",
    "unit_group": f"{MARK}-ug",
    "unit": f"{MARK}-un",
    "router": f"{MARK}-r",
}

ADMIN = frozenset({"admin"})
MEMBER = frozenset({"member"})  # makes instances in A's own account
WRITE = frozenset({"admin", "member"})  # A's resource, changed
READ = frozenset({"admin", "member", "reader"})  # A's resource, read
CREATE = frozenset({"admin", "member", "other"})  # in the caller's account
LIST = frozenset({"admin", "member", "reader", "other"})  # own scope
PUBLIC = None  # no token at all
CALLERS = ("admin", "member", "reader", "other")

NET = {
    "cidr": "10.40.0.0/24",
    "dns_domain": "lab.example",
    "segmentation": "vxlan",
}


@dataclasses.dataclass
class Row:
    allowed: frozenset | None
    # (world) -> (url, json body or None); called once per caller, so a
    # route that removes its resource gets a fresh one each time.
    request: Callable | None = None
    # Success for an allowed caller: these statuses. None: authorized,
    # i.e. anything but 401/403, 404 and 5xx (for routes whose success
    # needs agents the unit tests do not run).
    ok: tuple | None = (200, 201, 202, 204)


class World:
    """Account A with its admin-visible resources; makers return ids."""

    def __init__(self, client, cloud, admin, make_user, create):
        self.client, self.cloud, self.create = client, cloud, create
        self.callers = {"admin": admin}
        self.callers["member"] = make_user("member")
        self.a = self.callers["member"].account_id
        with engine.session() as s:
            s.get(models.Account, self.a).name = f"{MARK}-acct"
        self.callers["reader"] = make_user("reader", account_id=self.a)
        self.callers["other"] = make_user("member")
        self.n = 0

    def _name(self, kind):
        self.n += 1
        return f"{A_NAMES[kind]}{self.n}"

    def _post(self, path, body, status):
        r = self.client.post(
            path, json=body, headers=self.callers["member"].headers
        )
        assert r.status_code == status, r.text
        return r.json()

    def instance(self, status=None):
        r = self.create(self.callers["member"], name=self._name("instance"))
        assert r.status_code == 202, r.text
        body = r.json()
        if status:
            with engine.session() as s:
                s.get(models.Instance, body["id"]).status = status
        return body

    def network(self):
        return self._post(
            "/v1/networks", {**NET, "name": self._name("network")}, 201
        )["id"]

    def security_group(self):
        return self._post(
            "/v1/security_groups", {"name": self._name("security_group")}, 201
        )["id"]

    def key_pair(self):
        return self._post(
            "/v1/key_pairs", {"name": self._name("key_pair")}, 201
        )["id"]

    def unit_group(self):
        return self._post(
            "/v1/unit_groups", {"name": self._name("unit_group")}, 201
        )["id"]

    def unit(self):
        return self._post(
            "/v1/units",
            {
                "unit_group": self.unit_group(),
                "name": self._name("unit"),
                "spec": {"flavor": "small", "image": self.cloud.image_id},
                "count": 1,
            },
            202,
        )["id"]

    def _row(self, model, kind, **fields):
        rid = ids.generate(kind)
        with engine.session() as s:
            s.add(model(id=rid, account_id=self.a, **fields))
        return rid

    def volume(self):
        return self._row(
            models.Volume,
            "volume",
            name=f"{MARK}-v",
            size_gb=1,
            status="available",
        )

    def snapshot(self):
        return self._row(
            models.Snapshot,
            "snapshot",
            name=f"{MARK}-s",
            volume_id=self.volume(),
            size_gb=1,
            status="available",
        )

    def router(self):
        return self._post("/v1/routers", {"name": self._name("router")}, 202)[
            "id"
        ]

    def external_network(self):
        """The cloud's external network (an admin's, listed to all)."""
        if not hasattr(self, "_external"):
            r = self.client.post(
                "/v1/networks",
                json={
                    "name": "ext-pool",
                    "cidr": "198.51.100.0/24",
                    "dns_domain": "ext.example",
                    "segmentation": "flat",
                    "external": True,
                    "physical_network": "public",
                },
                headers=self.callers["admin"].headers,
            )
            assert r.status_code == 201, r.text
            self._external = r.json()["id"]
        return self._external

    def floating_ip(self):
        return self._post(
            "/v1/floating_ips", {"network": self.external_network()}, 201
        )["id"]

    def image(self):
        return self._row(
            models.Image,
            "image",
            name=f"{MARK}-img",
            format="raw",
            status="pending",
        )

    def user(self):
        uid = ids.generate("user")
        with engine.session() as s:
            s.add(
                models.User(
                    id=uid,
                    username=f"{MARK}-u{uid[2:]}",
                    password_hash="x",
                    account_id=self.a,
                    role="member",
                )
            )
        return uid

    def host(self):
        """A hypervisor host (of the cloud, of no account)."""
        self.n += 1
        hid = ids.generate("host")
        with engine.session() as s:
            s.add(
                models.Host(
                    id=hid,
                    name=f"hv{self.n}",
                    hypervisor_type="fake",
                    last_report_at=models.utcnow(),
                )
            )
        return hid

    def flavor(self):
        self.n += 1
        name = f"f{self.n}"
        with engine.session() as s:
            s.add(models.Flavor(name=name, vcpus=1, memory_mb=64, disk_gb=1))
        return name


def url(fmt, maker=None, *args):
    """A request on a fresh resource of A made by `maker`."""

    def build(w):
        rid = getattr(w, maker)(*args) if maker else None
        if isinstance(rid, dict):
            rid = rid["id"]
        return fmt.format(id=rid, a=w.a), None

    return build


def with_body(build, body):
    def b(w):
        u, _ = build(w)
        return u, body(w) if callable(body) else body

    return b


INST = {"name": "web-x", "flavor": "small"}

TABLE: dict[str, Row] = {
    # A browser's way in: redirected to the dashboard (arame/api/web.py).
    "GET /": Row(PUBLIC),
    "GET /healthz": Row(PUBLIC),
    "GET /readyz": Row(PUBLIC),
    "GET /metrics": Row(PUBLIC),
    "POST /v1/auth/tokens": Row(PUBLIC),
    # instances
    "POST /v1/instances": Row(
        CREATE,
        with_body(
            url("/v1/instances"), lambda w: {**INST, "image": w.cloud.image_id}
        ),
        (202,),
    ),
    "GET /v1/instances": Row(LIST, url("/v1/instances")),
    "GET /v1/instances/{instance_id}": Row(
        READ, url("/v1/instances/{id}", "instance")
    ),
    "DELETE /v1/instances/{instance_id}": Row(
        WRITE, url("/v1/instances/{id}", "instance"), (202,)
    ),
    "POST /v1/instances/{instance_id}/actions": Row(
        WRITE,
        with_body(
            url("/v1/instances/{id}/actions", "instance", "running"),
            {"action": "stop"},
        ),
        (202,),
    ),
    # The console has no agent here: 409 (no host) once authorized.
    "GET /v1/instances/{instance_id}/console": Row(
        WRITE, url("/v1/instances/{id}/console", "instance"), (409,)
    ),
    "PUT /v1/instances/{instance_id}/security_groups": Row(
        WRITE,
        with_body(
            url("/v1/instances/{id}/security_groups", "instance", "running"),
            lambda w: {"security_groups": [w.security_group()]},
        ),
        (202,),
    ),
    "PUT /v1/instances/{instance_id}/tags": Row(
        WRITE,
        with_body(url("/v1/instances/{id}/tags", "instance"), {"tags": ["t"]}),
    ),
    "GET /v1/instances/{instance_id}/metrics": Row(
        READ, url("/v1/instances/{id}/metrics", "instance"), (409,)
    ),
    # unit groups and units
    "POST /v1/unit_groups": Row(
        CREATE,
        lambda w: ("/v1/unit_groups", {"name": f"ug{w.flavor()}"}),
        (201,),
    ),
    "GET /v1/unit_groups": Row(LIST, url("/v1/unit_groups")),
    "GET /v1/unit_groups/{unit_group}": Row(
        READ, url("/v1/unit_groups/{id}", "unit_group")
    ),
    "DELETE /v1/unit_groups/{unit_group}": Row(
        WRITE, url("/v1/unit_groups/{id}", "unit_group"), (202,)
    ),
    "POST /v1/units": Row(
        MEMBER,
        lambda w: (
            "/v1/units",
            {
                "unit_group": w.unit_group(),
                "name": f"u{w.flavor()}",
                "spec": {"flavor": "small", "image": w.cloud.image_id},
                "count": 1,
            },
        ),
        (202,),
    ),
    "GET /v1/units": Row(LIST, url("/v1/units")),
    "GET /v1/units/{unit}": Row(READ, url("/v1/units/{id}", "unit")),
    "PATCH /v1/units/{unit}": Row(
        WRITE,
        with_body(
            url("/v1/units/{id}", "unit"), lambda w: {"name": "renamed"}
        ),
    ),
    "DELETE /v1/units/{unit}": Row(
        WRITE, url("/v1/units/{id}", "unit"), (202,)
    ),
    "POST /v1/units/{unit}/actions": Row(
        WRITE,
        with_body(
            url("/v1/units/{id}/actions", "unit"), {"action": "power_off"}
        ),
        (202,),
    ),
    # tasks: an instance's create task
    "GET /v1/tasks": Row(LIST, url("/v1/tasks")),
    "GET /v1/tasks/{task_id}": Row(
        READ, lambda w: (f"/v1/tasks/{w.instance()['task_id']}", None)
    ),
    "GET /v1/hosts": Row(ADMIN, url("/v1/hosts")),
    "GET /v1/hosts/{host_ref}": Row(ADMIN, url("/v1/hosts/{id}", "host")),
    "PATCH /v1/hosts/{host_ref}": Row(
        ADMIN,
        with_body(url("/v1/hosts/{id}", "host"), {"maintenance": True}),
    ),
    "GET /v1/hosts/{host_ref}/bmc": Row(
        ADMIN, url("/v1/hosts/{id}/bmc", "host")
    ),
    "PUT /v1/hosts/{host_ref}/bmc": Row(
        ADMIN,
        with_body(
            url("/v1/hosts/{id}/bmc", "host"),
            {
                "bmc_address": "192.0.2.50",
                "bmc_username": "admin",
                "bmc_password": "bmc-Pass-0001",
            },
        ),
    ),
    "DELETE /v1/hosts/{host_ref}/bmc": Row(
        ADMIN, url("/v1/hosts/{id}/bmc", "host"), (204,)
    ),
    # the host is up: a 409 once authorized
    "POST /v1/hosts/{host_ref}/evacuate": Row(
        ADMIN, url("/v1/hosts/{id}/evacuate", "host"), None
    ),
    # catalog
    "GET /v1/flavors": Row(LIST, url("/v1/flavors")),
    "POST /v1/flavors": Row(
        ADMIN,
        with_body(
            url("/v1/flavors"),
            lambda w: {
                "name": f"fl{w.flavor()}",
                "vcpus": 1,
                "memory_mb": 64,
                "disk_gb": 1,
            },
        ),
    ),
    "DELETE /v1/flavors/{name}": Row(ADMIN, url("/v1/flavors/{id}", "flavor")),
    "GET /v1/images": Row(LIST, url("/v1/images")),
    "POST /v1/images": Row(
        CREATE,
        with_body(url("/v1/images"), {"name": "img", "format": "raw"}),
        None,
    ),
    "GET /v1/images/{image_id}": Row(READ, url("/v1/images/{id}", "image")),
    "DELETE /v1/images/{image_id}": Row(
        WRITE, url("/v1/images/{id}", "image"), (204,)
    ),
    "PUT /v1/images/{image_id}/data": Row(
        WRITE,
        with_body(url("/v1/images/{id}/data", "image"), b"\0" * 512),
        None,
    ),
    "PUT /v1/images/{image_id}/tags": Row(
        WRITE, with_body(url("/v1/images/{id}/tags", "image"), {"tags": ["t"]})
    ),
    # identity: A itself and a user of A
    "POST /v1/accounts": Row(
        ADMIN,
        with_body(
            url("/v1/accounts"), lambda w: {"name": f"acct{w.flavor()}"}
        ),
    ),
    "GET /v1/accounts": Row(LIST, url("/v1/accounts")),
    "GET /v1/accounts/{account_id}": Row(READ, url("/v1/accounts/{a}")),
    "PATCH /v1/accounts/{account_id}": Row(
        ADMIN, with_body(url("/v1/accounts/{a}"), {"enabled": True})
    ),
    # A still has users: an admin's delete is a 409 once authorized.
    "DELETE /v1/accounts/{account_id}": Row(
        ADMIN, url("/v1/accounts/{a}"), (409,)
    ),
    "POST /v1/users": Row(
        ADMIN,
        with_body(
            url("/v1/users"),
            lambda w: {
                "username": f"u{w.flavor()}",
                "password": "pw-12345678",
                "account_id": w.a,
            },
        ),
    ),
    "GET /v1/users": Row(LIST, url("/v1/users")),
    "GET /v1/users/{user_id}": Row(READ, url("/v1/users/{id}", "user")),
    "PATCH /v1/users/{user_id}": Row(
        ADMIN, with_body(url("/v1/users/{id}", "user"), {"role": "reader"})
    ),
    "DELETE /v1/users/{user_id}": Row(ADMIN, url("/v1/users/{id}", "user")),
    # key pairs
    "POST /v1/key_pairs": Row(
        CREATE,
        with_body(url("/v1/key_pairs"), lambda w: {"name": f"kp{w.flavor()}"}),
    ),
    "GET /v1/key_pairs": Row(LIST, url("/v1/key_pairs")),
    "GET /v1/key_pairs/{key_pair_id}": Row(
        READ, url("/v1/key_pairs/{id}", "key_pair")
    ),
    "DELETE /v1/key_pairs/{key_pair_id}": Row(
        WRITE, url("/v1/key_pairs/{id}", "key_pair")
    ),
    # networks
    "POST /v1/networks": Row(
        CREATE,
        with_body(
            url("/v1/networks"), lambda w: {**NET, "name": f"n{w.flavor()}"}
        ),
    ),
    "GET /v1/networks": Row(LIST, url("/v1/networks")),
    "GET /v1/networks/{network_id}": Row(
        READ, url("/v1/networks/{id}", "network")
    ),
    "DELETE /v1/networks/{network_id}": Row(
        WRITE, url("/v1/networks/{id}", "network")
    ),
    "PUT /v1/networks/{network_id}/tags": Row(
        WRITE,
        with_body(url("/v1/networks/{id}/tags", "network"), {"tags": ["t"]}),
    ),
    # security groups
    "POST /v1/security_groups": Row(
        CREATE,
        with_body(
            url("/v1/security_groups"), lambda w: {"name": f"g{w.flavor()}"}
        ),
    ),
    "GET /v1/security_groups": Row(LIST, url("/v1/security_groups")),
    "GET /v1/security_groups/{group_id}": Row(
        READ, url("/v1/security_groups/{id}", "security_group")
    ),
    "PATCH /v1/security_groups/{group_id}": Row(
        WRITE,
        with_body(
            url("/v1/security_groups/{id}", "security_group"),
            {"description": "d"},
        ),
    ),
    "DELETE /v1/security_groups/{group_id}": Row(
        WRITE, url("/v1/security_groups/{id}", "security_group")
    ),
    "PUT /v1/security_groups/{group_id}/tags": Row(
        WRITE,
        with_body(
            url("/v1/security_groups/{id}/tags", "security_group"),
            {"tags": ["t"]},
        ),
    ),
    # routers and floating IPs
    "POST /v1/routers": Row(
        CREATE,
        with_body(url("/v1/routers"), lambda w: {"name": f"r{w.flavor()}"}),
        (202,),
    ),
    "GET /v1/routers": Row(LIST, url("/v1/routers")),
    "GET /v1/routers/{router_ref}": Row(
        READ, url("/v1/routers/{id}", "router")
    ),
    "PATCH /v1/routers/{router_ref}": Row(
        WRITE,
        with_body(url("/v1/routers/{id}", "router"), {"networks": []}),
        (202,),
    ),
    "DELETE /v1/routers/{router_ref}": Row(
        WRITE, url("/v1/routers/{id}", "router"), (202,)
    ),
    "POST /v1/floating_ips": Row(
        CREATE,
        with_body(
            url("/v1/floating_ips"),
            lambda w: {"network": w.external_network()},
        ),
        (201,),
    ),
    "GET /v1/floating_ips": Row(LIST, url("/v1/floating_ips")),
    "GET /v1/floating_ips/{floating_ip_id}": Row(
        READ, url("/v1/floating_ips/{id}", "floating_ip")
    ),
    "DELETE /v1/floating_ips/{floating_ip_id}": Row(
        WRITE, url("/v1/floating_ips/{id}", "floating_ip"), (204,)
    ),
    # Not associated: a 409 once authorized.
    "POST /v1/floating_ips/{floating_ip_id}/actions": Row(
        WRITE,
        with_body(
            url("/v1/floating_ips/{id}/actions", "floating_ip"),
            {"disassociate": {}},
        ),
        (409,),
    ),
    # quotas of A
    "GET /v1/quotas/{account_id}": Row(READ, url("/v1/quotas/{a}")),
    "PUT /v1/quotas/{account_id}": Row(
        ADMIN, with_body(url("/v1/quotas/{a}"), {"instances": 5})
    ),
    "PATCH /v1/quotas/{account_id}": Row(
        ADMIN, with_body(url("/v1/quotas/{a}"), {"instances": 5})
    ),
    "GET /v1/usage": Row(LIST, url("/v1/usage")),
    "GET /v1/version": Row(LIST, url("/v1/version")),
    # volumes and snapshots (rows of A; their agents do not run here)
    "POST /v1/volumes": Row(
        CREATE,
        with_body(url("/v1/volumes"), {"name": "v", "size_gb": 1}),
        None,
    ),
    "GET /v1/volumes": Row(LIST, url("/v1/volumes")),
    "GET /v1/volumes/{volume_id}": Row(
        READ, url("/v1/volumes/{id}", "volume")
    ),
    "PUT /v1/volumes/{volume_id}/tags": Row(
        WRITE,
        with_body(url("/v1/volumes/{id}/tags", "volume"), {"tags": ["t"]}),
    ),
    "DELETE /v1/volumes/{volume_id}": Row(
        WRITE, url("/v1/volumes/{id}", "volume"), None
    ),
    "POST /v1/volumes/{volume_id}/actions": Row(
        WRITE,
        with_body(
            url("/v1/volumes/{id}/actions", "volume"), {"action": "detach"}
        ),
        None,
    ),
    # Of A's volume: B may not snapshot it (404), a reader may not (403).
    "POST /v1/snapshots": Row(
        WRITE,
        with_body(
            url("/v1/snapshots"),
            lambda w: {"name": "s", "volume_id": w.volume()},
        ),
        None,
    ),
    "GET /v1/snapshots": Row(LIST, url("/v1/snapshots")),
    "GET /v1/snapshots/{snapshot_id}": Row(
        READ, url("/v1/snapshots/{id}", "snapshot")
    ),
    "DELETE /v1/snapshots/{snapshot_id}": Row(
        WRITE, url("/v1/snapshots/{id}", "snapshot"), None
    ),
    # bare metal: admin only; no node exists (an admin's 404 is allowed)
    "GET /v1/baremetal/nodes": Row(ADMIN, url("/v1/baremetal/nodes")),
    "POST /v1/baremetal/nodes": Row(
        ADMIN, with_body(url("/v1/baremetal/nodes"), {}), None
    ),
    "GET /v1/baremetal/nodes/{node_id}": Row(
        ADMIN, url("/v1/baremetal/nodes/bm-00000000"), (404,)
    ),
    "PATCH /v1/baremetal/nodes/{node_id}": Row(
        ADMIN,
        with_body(url("/v1/baremetal/nodes/bm-00000000"), {}),
        (404, 422),
    ),
    "DELETE /v1/baremetal/nodes/{node_id}": Row(
        ADMIN, url("/v1/baremetal/nodes/bm-00000000"), (404,)
    ),
    "POST /v1/baremetal/nodes/{node_id}/actions": Row(
        ADMIN,
        with_body(
            url("/v1/baremetal/nodes/bm-00000000/actions"),
            {"action": "manage"},
        ),
        (404, 422),
    ),
}


def app_routes(app) -> list[str]:
    """'METHOD /path' of every API route, however FastAPI nests included
    routers (0.1xx keeps them as _IncludedRouter entries)."""
    out = []

    def walk(routes, prefix=""):
        for r in routes:
            if isinstance(r, APIRoute):
                out.extend(f"{m} {prefix}{r.path}" for m in sorted(r.methods))
            elif hasattr(r, "include_context"):
                ctx = r.include_context
                walk(ctx.included_router.routes, prefix + (ctx.prefix or ""))

    walk(app.routes)
    return out


ROUTES = app_routes(create_app())


def test_every_route_is_classified():
    missing = [r for r in ROUTES if r not in TABLE]
    assert not missing, f"routes missing from the policy matrix: {missing}"
    stale = [r for r in TABLE if r not in ROUTES]
    assert not stale, f"rows for routes that do not exist: {stale}"


@pytest.fixture
def world(client, cloud, admin, make_user, create):
    return World(client, cloud, admin, make_user, create)


def _check_no_a_data(r, route):
    assert MARK not in r.text, f"{route}: account A's data leaked: {r.text}"


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if TABLE.get(r, Row(PUBLIC)).allowed]
)
def test_matrix(client, world, route):
    row = TABLE[route]
    method = route.split(" ", 1)[0]
    for who in CALLERS:
        path, body = row.request(world)
        # bytes: a raw upload (image data); anything else goes as JSON.
        raw = isinstance(body, bytes)
        r = client.request(
            method,
            path,
            json=None if raw else body,
            content=body if raw else None,
            headers={
                **world.callers[who].headers,
                **(
                    {"Content-Type": "application/octet-stream"} if raw else {}
                ),
            },
        )
        what = f"{route} as {who}: {r.status_code} {r.text[:300]}"
        assert r.status_code < 500, what
        if who == "other":
            _check_no_a_data(r, route)
        if who not in row.allowed:
            assert r.status_code in (403, 404), what
            assert_error(r, r.status_code)
            if who != "admin":
                _check_no_a_data(r, route)
        elif row.ok is not None:
            assert r.status_code in row.ok, what
        else:
            assert r.status_code not in (401, 403, 404), what


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if TABLE.get(r, Row(PUBLIC)).allowed]
)
def test_no_token_is_401(client, route):
    method, path = route.split(" ", 1)
    r = client.request(
        method, re.sub(r"\{[^}]+\}", "x-00000000", path), json={}
    )
    # Parameters are checked after the token; the token first.
    assert_error(r, 401, "unauthorized")
