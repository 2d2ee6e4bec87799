"""Admin > Hosts in headless Chromium: an admin disables the all-in-one's
hypervisor with a reason, sees it, and enables it again (the host is put
back whatever happens: the other UI tests boot instances on it)."""

import pytest
from playwright.sync_api import expect

from tests.ui.test_admin import open_admin, sign_in

pytestmark = pytest.mark.ui


@pytest.fixture
def aio_host(api):
    yield "aio"
    api.call(
        "PATCH",
        "/v1/hosts/aio",
        {"enabled": True, "maintenance": False},
        expect=200,
    )


def test_disable_with_a_reason_then_enable(page, api, aio_host):
    sign_in(page)
    open_admin(page, "Hosts")
    host = page.get_by_role("region", name=aio_host)
    host.get_by_role("button", name="Disable").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Reason").fill("ui test: bad DIMM")
    dialog.get_by_role("button", name="Disable").click()
    expect(dialog).to_be_hidden()
    reasons = host.get_by_role("list", name=f"Why {aio_host} takes no new")
    expect(reasons).to_contain_text("Disabled: ui test: bad DIMM")
    expect(host).to_contain_text("disabled for new instances")
    got = api.call("GET", f"/v1/hosts/{aio_host}", expect=200)
    assert (got["enabled"], got["disabled_reason"]) == (
        False,
        "ui test: bad DIMM",
    )

    host.get_by_role("button", name="Enable").click()
    expect(host.get_by_role("button", name="Disable")).to_be_visible()
    expect(reasons).to_have_count(0)
    assert api.call("GET", f"/v1/hosts/{aio_host}")["enabled"] is True
    assert page.errors == [], page.errors


@pytest.fixture
def dead_host(all_in_one):
    """A hypervisor that stopped reporting an hour ago (a row in the
    all-in-one's SQLite file, as its agent would have left it)."""
    import sqlite3

    db = all_in_one["log"].parent / "arame.db"
    con = sqlite3.connect(db)
    try:
        con.execute(
            "INSERT INTO hosts (id, name, provider, hypervisor_type, vcpus,"
            " memory_mb, disk_gb, vcpus_used, memory_mb_used, disk_gb_used,"
            " instance_count, enabled, maintenance, last_report_at,"
            " created_at, updated_at) VALUES ('hn-uidead01', 'ui-dead',"
            " 'vm', 'fake', 4, 4096, 40, 0, 0, 0, 0, 1, 0,"
            " datetime('now', '-1 hour'), datetime('now'), datetime('now'))"
        )
        con.commit()
        yield "ui-dead"
    finally:
        con.execute("DELETE FROM host_evacuations WHERE host = 'ui-dead'")
        con.execute("DELETE FROM hosts WHERE id = 'hn-uidead01'")
        con.commit()
        con.close()


def test_a_down_host_offers_evacuate_and_a_live_one_does_not(
    page, api, dead_host
):
    sign_in(page)
    open_admin(page, "Hosts")
    dead = page.get_by_role("region", name=dead_host)
    expect(dead.get_by_role("button", name="Evacuate")).to_be_visible()
    expect(
        page.get_by_role("region", name="aio").get_by_role(
            "button", name="Evacuate"
        )
    ).to_have_count(0)
    dead.get_by_role("button", name="Evacuate").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("rebuilt on another host")
    dialog.get_by_role("button", name="Evacuate").click()
    expect(
        page.get_by_text(f"{dead_host}: 0 instance(s) being evacuated")
    ).to_be_visible()
    assert page.errors == [], page.errors
