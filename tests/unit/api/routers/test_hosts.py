"""/v1/hosts: admin only; heartbeat age decides up or down."""

import datetime as dt

from arame.common.db import engine, models


def test_hosts_is_admin_only(client, member, make_user, error_of):
    error_of(client.get("/v1/hosts", headers=member.headers), 403, "forbidden")
    reader = make_user("reader")
    error_of(client.get("/v1/hosts", headers=reader.headers), 403)


def test_admin_sees_capacity_usage_and_state(client, admin, add_host, config):
    config("service_down_time", 30)
    add_host(
        "hv1",
        vcpus=8,
        memory_mb=16384,
        disk_gb=500,
        vcpus_used=2,
        memory_mb_used=1024,
        disk_gb_used=10,
        instance_count=1,
    )
    add_host("hv2", age_s=600)
    r = client.get("/v1/hosts", headers=admin.headers)
    assert r.status_code == 200
    items = {h["name"]: h for h in r.json()["items"]}
    hv1 = items["hv1"]
    assert hv1["state"] == "up"
    assert (
        hv1["vcpus"],
        hv1["vcpus_used"],
        hv1["memory_mb_used"],
        hv1["instances"],
    ) == (8, 2, 1024, 1)
    assert items["hv2"]["state"] == "down"
    assert items["hv2"]["heartbeat_age_s"] >= 600


def test_daemons_show_under_their_machine(client, admin, add_host, config):
    config("service_down_time", 30)
    add_host("hv1")
    now = models.utcnow()
    with engine.session() as s:
        s.add(
            models.Service(
                host="hv1",
                binary="arame-hva",
                topic="hva",
                version="0.1.0",
                last_heartbeat_at=now,
            )
        )
        s.add(
            models.Service(
                host="ctl",
                binary="arame-scheduler",
                topic="scheduler",
                version="0.1.0",
                last_heartbeat_at=now - dt.timedelta(hours=1),
            )
        )
    items = {
        h["name"]: h
        for h in client.get("/v1/hosts", headers=admin.headers).json()["items"]
    }
    assert [s["binary"] for s in items["hv1"]["services"]] == ["arame-hva"]
    assert items["hv1"]["services"][0]["state"] == "up"
    ctl = items["ctl"]
    assert ctl["id"] is None and ctl["vcpus"] is None
    assert ctl["state"] == "down"
    assert ctl["services"][0]["state"] == "down"
