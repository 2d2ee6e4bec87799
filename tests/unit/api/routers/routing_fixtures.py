"""Fixtures of the router and floating IP tests: an external network, an
account's networks, the scheduler's casts recorded."""

import pytest
import sqlalchemy as sa

from arame.api.routers import floating_ips as fip_router
from arame.api.routers import routers as routers_router
from arame.common.db import engine, models

EXT = {
    "name": "public",
    "cidr": "203.0.113.0/24",
    "dns_domain": "public.example",
    "segmentation": "flat",
    "external": True,
    "physical_network": "public",
    "dhcp_ranges": [["203.0.113.10", "203.0.113.200"]],
}


class RecordingScheduler:
    def __init__(self):
        self.casts = []
        self.fail = False

    def _record(self, method, task_id, router_id):
        if self.fail:
            raise OSError("broker down")
        self.casts.append((method, task_id, router_id))

    def sync_router(self, ctxt, task_id, router_id):
        self._record("sync_router", task_id, router_id)

    def delete_router(self, ctxt, task_id, router_id):
        self._record("delete_router", task_id, router_id)


@pytest.fixture
def l3_scheduler(monkeypatch):
    rec = RecordingScheduler()
    monkeypatch.setattr(routers_router.service, "_scheduler", rec)
    monkeypatch.setattr(fip_router.service, "_scheduler", rec)
    return rec


@pytest.fixture
def external(client, admin):
    """external(**body) -> a new external network's answer (admin's)."""

    def make(**body):
        r = client.post(
            "/v1/networks", headers=admin.headers, json={**EXT, **body}
        )
        assert r.status_code == 201, r.text
        return r.json()

    return make


@pytest.fixture
def network(client, member):
    """network(caller=member, **body) -> a new tenant network's answer."""

    def make(caller=member, **body):
        body = {
            "name": "n1",
            "cidr": "10.30.0.0/24",
            "dns_domain": "t.lab",
            "segmentation": "vxlan",
            **body,
        }
        r = client.post("/v1/networks", headers=caller.headers, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    return make


@pytest.fixture
def make_router(client, member):
    """make_router(caller=member, **body) -> the 202 answer."""

    def make(caller=member, **body):
        body.setdefault("name", "r1")
        r = client.post("/v1/routers", headers=caller.headers, json=body)
        assert r.status_code == 202, r.text
        return r.json()

    return make


def counts() -> dict:
    with engine.session() as s:

        def n(m):
            return s.scalar(sa.select(sa.func.count()).select_from(m))

        return {
            "routers": n(models.Router),
            "interfaces": n(models.RouterInterface),
            "floating_ips": n(models.FloatingIp),
            "tasks": n(models.Task),
        }
