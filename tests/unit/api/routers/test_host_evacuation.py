"""POST /v1/hosts/{id}/evacuate: 404 unknown, 409 up or unfenceable,
202 with a task per ha instance; asking again adds none."""

import datetime as dt

import pytest
import sqlalchemy as sa

from arame.api.services import evacuation as evacuation_service
from arame.common.db import engine, models


class Casts:
    def __init__(self):
        self.casts = []

    def evacuate_instance(self, ctxt, task_id, instance_id):
        self.casts.append((task_id, instance_id))


@pytest.fixture
def casts(monkeypatch):
    rec = Casts()
    monkeypatch.setattr(evacuation_service.service, "_scheduler", rec)
    return rec


@pytest.fixture
def down_host(add_host, add_instance, config):
    config("service_down_time", 60)
    add_host("hv1", age_s=600)
    add_host("hv2")
    ha, _ = add_instance(
        name="ha-1", status="running", host="hv1", claimed=True
    )
    plain, _ = add_instance(
        name="plain-1", status="running", host="hv1", claimed=True
    )
    with engine.session() as s:
        s.execute(
            sa.update(models.Instance)
            .where(models.Instance.id == plain)
            .values(ha_enabled=False)
        )
    return ha, plain


def test_unknown_host_is_404(client, admin, casts):
    r = client.post("/v1/hosts/nope/evacuate", headers=admin.headers)
    assert r.status_code == 404, r.text


def test_member_is_refused(client, member, down_host, casts):
    r = client.post("/v1/hosts/hv1/evacuate", headers=member.headers)
    assert r.status_code == 403, r.text
    assert casts.casts == []


def test_an_up_host_is_409(client, admin, down_host, casts):
    r = client.post("/v1/hosts/hv2/evacuate", headers=admin.headers)
    assert r.status_code == 409, r.text
    assert "is up" in r.json()["error"]["message"]


def test_unfenceable_host_is_409(client, admin, down_host, casts):
    ha, _ = down_host
    with engine.session() as s:
        s.execute(
            sa.update(models.Host)
            .where(models.Host.name == "hv1")
            .values(storage_address="10.0.0.1")
        )
        s.add(
            models.StorageNode(
                name="st1",
                reported_at=models.utcnow() - dt.timedelta(hours=1),
            )
        )
        s.add(
            models.Volume(
                id="vol-00000001",
                name="root",
                account_id="a-admin",
                size_gb=5,
                status="attached",
                storage_node="st1",
                instance_id=ha,
                root_of=ha,
                export_iqn="iqn.x",
            )
        )
    r = client.post("/v1/hosts/hv1/evacuate", headers=admin.headers)
    assert r.status_code == 409, r.text
    assert "st1" in r.json()["error"]["message"]


def test_202_a_task_per_ha_instance_and_idempotent(
    client, admin, down_host, casts, get_row
):
    ha, plain = down_host
    r = client.post("/v1/hosts/hv1/evacuate", headers=admin.headers)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["host"] == "hv1" and body["state"] == "evacuating"
    assert [(t["instance_id"], t["new"]) for t in body["tasks"]] == [
        (ha, True)
    ]
    assert body["not_evacuated"][0]["instance_id"] == plain
    assert "ha_enabled is false" in body["not_evacuated"][0]["reason"]
    assert casts.casts == [(body["tasks"][0]["task_id"], ha)]
    assert get_row(models.Instance, ha).status == "evacuating"
    assert get_row(models.Instance, plain).status == "error"
    task = get_row(models.Task, body["tasks"][0]["task_id"])
    assert (task.action, task.status) == ("evacuate", "queued")

    again = client.post("/v1/hosts/hv1/evacuate", headers=admin.headers)
    assert again.status_code == 202
    assert [(t["task_id"], t["new"]) for t in again.json()["tasks"]] == [
        (body["tasks"][0]["task_id"], False)
    ]
    assert len(casts.casts) == 1
    # By id as by name.
    with engine.session() as s:
        hid = s.scalar(
            sa.select(models.Host.id).where(models.Host.name == "hv1")
        )
    r = client.post(f"/v1/hosts/{hid}/evacuate", headers=admin.headers)
    assert r.status_code == 202 and len(casts.casts) == 1
