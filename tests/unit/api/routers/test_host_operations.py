"""GET/PATCH /v1/hosts/{id}: an admin takes a hypervisor out of service
(disabled or maintenance, with a reason) and puts it back; the list
shows it; the same request again changes nothing."""

import datetime as dt

import pytest

from arame.common.db import engine, models


def _host_id(name):
    import sqlalchemy as sa

    with engine.session() as s:
        return s.scalar(
            sa.select(models.Host.id).where(models.Host.name == name)
        )


def _row(name):
    import sqlalchemy as sa

    with engine.session() as s:
        h = s.scalar(sa.select(models.Host).where(models.Host.name == name))
        s.expunge(h)
        return h


@pytest.fixture
def hv1(add_host):
    add_host("hv1")
    return _host_id("hv1")


def test_show_and_update_are_admin_only(
    client, member, make_user, hv1, error_of
):
    reader = make_user("reader")
    for who in (member, reader):
        error_of(
            client.get(f"/v1/hosts/{hv1}", headers=who.headers),
            403,
            "forbidden",
        )
        error_of(
            client.patch(
                f"/v1/hosts/{hv1}",
                json={"enabled": False},
                headers=who.headers,
            ),
            403,
            "forbidden",
        )
    assert _row("hv1").enabled is True


def test_show_by_id_or_name(client, admin, hv1):
    by_id = client.get(f"/v1/hosts/{hv1}", headers=admin.headers)
    by_name = client.get("/v1/hosts/hv1", headers=admin.headers)
    assert by_id.status_code == by_name.status_code == 200
    body = by_id.json()
    assert body["id"] == hv1 and body["name"] == "hv1"
    assert (body["enabled"], body["maintenance"]) == (True, False)
    assert body["disabled_reason"] is None
    assert by_name.json()["id"] == hv1


def test_unknown_host_is_404(client, admin, error_of):
    error_of(client.get("/v1/hosts/nope", headers=admin.headers), 404)
    error_of(client.get("/v1/hosts/hn-00000000", headers=admin.headers), 404)
    error_of(
        client.patch(
            "/v1/hosts/nope", json={"enabled": False}, headers=admin.headers
        ),
        404,
        "not_found",
    )


def test_disable_with_reason_shows_in_list_and_enable_clears_it(
    client, admin, hv1
):
    r = client.patch(
        f"/v1/hosts/{hv1}",
        json={"enabled": False, "reason": "bad DIMM"},
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["enabled"], r.json()["disabled_reason"]) == (
        False,
        "bad DIMM",
    )
    assert r.json()["state_changed_by"] == admin.user_id
    listed = client.get("/v1/hosts", headers=admin.headers).json()["items"]
    (hv,) = [h for h in listed if h["name"] == "hv1"]
    assert (hv["enabled"], hv["disabled_reason"], hv["maintenance"]) == (
        False,
        "bad DIMM",
        False,
    )
    r = client.patch(
        "/v1/hosts/hv1", json={"enabled": True}, headers=admin.headers
    )
    assert (r.json()["enabled"], r.json()["disabled_reason"]) == (True, None)


def test_maintenance_on_and_off(client, admin, hv1):
    r = client.patch(
        f"/v1/hosts/{hv1}",
        json={"maintenance": True, "reason": "kernel update"},
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["maintenance"], body["maintenance_reason"]) == (
        True,
        "kernel update",
    )
    assert body["enabled"] is True  # independent of enabled
    r = client.patch(
        f"/v1/hosts/{hv1}", json={"maintenance": False}, headers=admin.headers
    )
    assert (r.json()["maintenance"], r.json()["maintenance_reason"]) == (
        False,
        None,
    )


def test_same_values_again_change_nothing(client, admin, hv1, make_user):
    body = {"maintenance": True, "reason": "r1"}
    first = client.patch(f"/v1/hosts/{hv1}", json=body, headers=admin.headers)
    before = _row("hv1")
    # Another admin asks the same: nothing changes, not even who did it.
    other = make_user("admin", account_id="a-admin")
    again = client.patch(f"/v1/hosts/{hv1}", json=body, headers=other.headers)
    assert again.status_code == 200
    after = _row("hv1")
    assert after.updated_at == before.updated_at
    assert after.state_changed_by == admin.user_id
    strip = ("heartbeat_age_s", "services")
    assert {k: v for k, v in again.json().items() if k not in strip} == {
        k: v for k, v in first.json().items() if k not in strip
    }
    # Asked again without a reason: the one given stays.
    r = client.patch(
        f"/v1/hosts/{hv1}", json={"maintenance": True}, headers=other.headers
    )
    assert r.json()["maintenance_reason"] == "r1"
    assert _row("hv1").updated_at == before.updated_at
    # A new reason for the same state is a change.
    r = client.patch(
        f"/v1/hosts/{hv1}",
        json={"maintenance": True, "reason": "r2"},
        headers=other.headers,
    )
    assert r.json()["maintenance_reason"] == "r2"
    assert r.json()["state_changed_by"] == other.user_id


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, None),
        ({"reason": "why"}, None),
        ({"enabled": False, "reason": "x" * 256}, "reason"),
        ({"enabled": False, "reason": ""}, "reason"),
        ({"enabled": True, "reason": "why"}, "reason"),
        ({"maintenance": False, "reason": "why"}, "reason"),
        ({"enabled": None}, "enabled"),
        # An explicit null reason (schemathesis found it a 500).
        ({"enabled": False, "maintenance": False, "reason": None}, "reason"),
        ({"enabled": "no"}, "enabled"),
        ({"enabled": 0}, "enabled"),
        ({"state": "down"}, "state"),
        ({"enabled": False, "name": "x"}, "name"),
    ],
)
def test_bad_bodies_are_422_with_a_message(
    client, admin, hv1, error_of, body, field
):
    err = error_of(
        client.patch(f"/v1/hosts/{hv1}", json=body, headers=admin.headers),
        422,
        "invalid",
    )
    if field is not None:
        assert field in err["message"] or field in str(err["details"])
    h = _row("hv1")
    assert (h.enabled, h.maintenance, h.disabled_reason) == (True, False, None)


def test_a_machine_with_only_daemons(client, admin, error_of):
    with engine.session() as s:
        s.add(
            models.Service(
                host="ctl",
                binary="arame-scheduler",
                topic="scheduler",
                version="0.1.0",
                last_heartbeat_at=models.utcnow() - dt.timedelta(seconds=1),
            )
        )
    r = client.get("/v1/hosts/ctl", headers=admin.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] is None and body["enabled"] is None
    assert [x["binary"] for x in body["services"]] == ["arame-scheduler"]
    err = error_of(
        client.patch(
            "/v1/hosts/ctl", json={"enabled": False}, headers=admin.headers
        ),
        409,
        "conflict",
    )
    assert "no hypervisor" in err["message"]


def test_disabling_leaves_the_hosts_guests_alone(
    client, admin, hv1, add_instance
):
    iid, _ = add_instance(status="running", host="hv1")
    r = client.patch(
        f"/v1/hosts/{hv1}",
        json={"enabled": False, "maintenance": True, "reason": "rack move"},
        headers=admin.headers,
    )
    assert r.json()["disabled_reason"] == "rack move"
    assert r.json()["maintenance_reason"] == "rack move"
    with engine.session() as s:
        inst = s.get(models.Instance, iid)
        assert (inst.status, inst.host) == ("running", "hv1")
