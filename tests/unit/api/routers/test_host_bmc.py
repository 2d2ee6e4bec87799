"""/v1/hosts/{id}/bmc: an admin sets a hypervisor host's BMC for power
fencing; the password goes in sealed and never comes out."""

import sqlalchemy as sa

from arame.common import secretbox
from arame.common.db import engine, models

PASSWORD = "bmc-Pass-0001"
BODY = {
    "bmc_address": "192.0.2.50",
    "bmc_port": 6230,
    "bmc_username": "admin",
    "bmc_password": PASSWORD,
}


def _row(name):
    with engine.session() as s:
        h = s.scalar(sa.select(models.Host).where(models.Host.name == name))
        s.expunge(h)
        return h


def test_set_read_replace_and_remove(client, admin, add_host):
    add_host("hv1")
    r = client.get("/v1/hosts/hv1/bmc", headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["configured"] is False
    assert r.json()["bmc_address"] is None

    r = client.put("/v1/hosts/hv1/bmc", json=BODY, headers=admin.headers)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got == {
        "host_id": _row("hv1").id,
        "host": "hv1",
        "configured": True,
        "bmc_address": "192.0.2.50",
        "bmc_port": 6230,
        "bmc_username": "admin",
        "bmc_interface": "lanplus",
    }
    row = _row("hv1")
    assert PASSWORD not in row.bmc_password
    assert secretbox.unseal(row.bmc_password) == PASSWORD
    # By id too; never the password, not in the host's own view either.
    for url in (f"/v1/hosts/{row.id}/bmc", "/v1/hosts/hv1"):
        r = client.get(url, headers=admin.headers)
        assert r.status_code == 200 and PASSWORD not in r.text
        assert "bmc_password" not in r.json()

    again = {**BODY, "bmc_port": 623, "bmc_interface": "lan"}
    r = client.put("/v1/hosts/hv1/bmc", json=again, headers=admin.headers)
    assert (r.json()["bmc_port"], r.json()["bmc_interface"]) == (623, "lan")

    for _ in range(2):
        r = client.delete("/v1/hosts/hv1/bmc", headers=admin.headers)
        assert r.status_code == 204
    row = _row("hv1")
    assert (row.bmc_address, row.bmc_password) == (None, None)


def test_malformed_fields_are_422_naming_them(
    client, admin, add_host, error_of
):
    add_host("hv1")
    for field, value in (
        ("bmc_address", "-oProxyCommand=x"),
        ("bmc_username", "-U"),
        ("bmc_password", "p\x01ss"),
        ("bmc_port", 0),
    ):
        r = client.put(
            "/v1/hosts/hv1/bmc",
            json={**BODY, field: value},
            headers=admin.headers,
        )
        assert r.status_code == 422, (field, r.text)
        assert "p\x01ss" not in r.text
    r = client.put(
        "/v1/hosts/hv1/bmc",
        json={**BODY, "bmc_interface": "lan", "bmc_password": "x" * 17},
        headers=admin.headers,
    )
    assert r.status_code == 422 and "x" * 17 not in r.text
    assert _row("hv1").bmc_address is None


def test_unknown_host_and_non_admins(
    client, admin, member, add_host, error_of
):
    add_host("hv1")
    error_of(
        client.put("/v1/hosts/nohost/bmc", json=BODY, headers=admin.headers),
        404,
    )
    error_of(
        client.put("/v1/hosts/hv1/bmc", json=BODY, headers=member.headers),
        403,
    )
    error_of(client.get("/v1/hosts/hv1/bmc", headers=member.headers), 403)
    error_of(client.delete("/v1/hosts/hv1/bmc", headers=member.headers), 403)
