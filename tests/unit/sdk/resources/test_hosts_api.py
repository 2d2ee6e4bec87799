"""client.hosts against the real API in process (a seeded SQLite cloud):
show, disable/enable and maintenance with the server's answers."""

import pytest

from arame.sdk import ArameError, Client, NotFound
from tests.unit.api.conftest import (  # noqa: F401
    admin,
    client,
    fast_hashes,
    make_client,
    make_user,
    member,
    scheduler,
)


def sdk_of(test_client, caller) -> Client:
    token = caller.headers["Authorization"].split()[1]
    return Client(
        str(test_client.base_url),
        token=token,
        transport=test_client._transport,
    )


@pytest.fixture
def as_admin(client, admin, add_host):  # noqa: F811
    add_host("hv1")
    with sdk_of(client, admin) as c:
        yield c


def test_show_disable_enable(as_admin):
    hv = as_admin.hosts.get("hv1")
    assert (hv["name"], hv["enabled"], hv["maintenance"]) == (
        "hv1",
        True,
        False,
    )
    assert as_admin.hosts.get(hv["id"])["name"] == "hv1"
    off = as_admin.hosts.disable("hv1", reason="PSU")
    assert (off["enabled"], off["disabled_reason"]) == (False, "PSU")
    listed = {h["name"]: h for h in as_admin.hosts.list()}
    assert listed["hv1"]["disabled_reason"] == "PSU"
    on = as_admin.hosts.enable(hv["id"])
    assert (on["enabled"], on["disabled_reason"]) == (True, None)


def test_maintenance_on_and_off(as_admin):
    on = as_admin.hosts.maintenance("hv1", reason="firmware")
    assert (on["maintenance"], on["maintenance_reason"]) == (
        True,
        "firmware",
    )
    # The same values again: answered, nothing changed.
    again = as_admin.hosts.maintenance("hv1", reason="firmware")
    assert again["maintenance_reason"] == "firmware"
    assert again["state_changed_by"] == on["state_changed_by"]
    off = as_admin.hosts.maintenance("hv1", on=False)
    assert (off["maintenance"], off["maintenance_reason"]) == (False, None)


def test_errors(as_admin, client, member):  # noqa: F811
    with pytest.raises(NotFound):
        as_admin.hosts.get("nope")
    with pytest.raises(ArameError) as e:
        as_admin.hosts.update("hv1")
    assert e.value.status_code == 422
    with sdk_of(client, member) as c, pytest.raises(ArameError) as e:
        c.hosts.disable("hv1")
    assert e.value.status_code == 403
