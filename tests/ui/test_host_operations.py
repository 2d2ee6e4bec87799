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
