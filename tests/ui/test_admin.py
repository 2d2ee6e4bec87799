"""The Admin page in headless Chromium against the all-in-one: hosts and
their capacity, accounts and users, quotas and bare-metal nodes (the
all-in-one's bma drives a fake BMC), and the page closed to non-admins."""

import re
import secrets
import uuid

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import ADMIN_PASSWORD, snapshot

pytestmark = pytest.mark.ui


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def sign_in(page, username="admin", password=ADMIN_PASSWORD):
    page.goto("/ui/")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def nav(page):
    return page.get_by_role("navigation", name="Main")


def open_admin(page, tab):
    nav(page).get_by_role("link", name="Admin").click()
    expect(
        page.get_by_role("heading", name="Admin", exact=True)
    ).to_be_visible()
    page.get_by_role("navigation", name="Admin sections").get_by_role(
        "link", name=tab
    ).click()
    expect(
        page.get_by_role("navigation", name="Admin sections").get_by_role(
            "link", name=tab
        )
    ).to_have_attribute("aria-current", "page")


def row(page, table, name):
    rows = page.get_by_role("table", name=table).get_by_role("row")
    return rows.filter(has=page.get_by_text(name, exact=True))


def test_hosts_show_a_hypervisor_up_with_its_capacity(page):
    sign_in(page)
    open_admin(page, "Hosts")
    host = page.get_by_role("region", name="aio")
    expect(host).to_contain_text("up")
    expect(host).to_contain_text(re.compile(r"heartbeat \d+ s ago"))
    vcpus = host.get_by_role("meter", name="vCPUs")
    expect(vcpus).to_be_visible()
    expect(vcpus).to_have_attribute("aria-valuetext", re.compile(r"of 32$"))
    expect(host.get_by_role("meter", name="Memory")).to_be_visible()
    expect(host.get_by_role("meter", name=re.compile("^Pool"))).to_be_visible()
    services = host.get_by_role("list", name="Services on aio")
    expect(services).to_contain_text("arame-hva")
    snapshot(page, "admin-hosts")
    assert page.errors == [], page.errors


def test_create_an_account_and_a_user_who_signs_in_without_admin(
    page, api, browser, all_in_one
):
    account = unique("team")
    username = unique("ana")
    password = "ana-" + secrets.token_hex(6)
    sign_in(page)
    open_admin(page, "Accounts and users")

    page.get_by_role("button", name="Create account").click()
    dialog = page.get_by_role("dialog", name="Create account")
    dialog.get_by_label("Name", exact=True).fill(account)
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_be_hidden()
    expect(row(page, "Accounts", account)).to_contain_text("enabled")

    page.get_by_role("button", name="Create user").click()
    dialog = page.get_by_role("dialog", name="Create user")
    dialog.get_by_label("Username", exact=True).fill(username)
    dialog.get_by_label("Password", exact=True).fill(password)
    account_id = api.call("GET", f"/v1/accounts?name={account}")["items"][0][
        "id"
    ]
    dialog.get_by_label("Account", exact=True).select_option(account_id)
    dialog.get_by_label("Role", exact=True).select_option("member")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_be_hidden()
    user_row = row(page, "Users", username)
    expect(user_row).to_contain_text(account)
    expect(user_row).to_contain_text("member")
    snapshot(page, "admin-identity")

    # Their own browser: signed in to their account, no Admin in the nav.
    context = browser.new_context(base_url=all_in_one["url"])
    try:
        theirs = context.new_page()
        sign_in(theirs, username, password)
        expect(
            nav(theirs).get_by_role("link", name="Instances")
        ).to_be_visible()
        expect(nav(theirs).get_by_role("link", name="Admin")).to_have_count(0)
    finally:
        context.close()

    # Disabled, they can no longer sign in; enabled again, they can.
    user_row.get_by_role(
        "button", name=f"Disable {username}", exact=True
    ).click()
    expect(user_row).to_contain_text("disabled")
    api.call(
        "POST",
        "/v1/auth/tokens",
        {"username": username, "password": password},
        token=False,
        expect=401,
    )
    user_row.get_by_role(
        "button", name=f"Enable {username}", exact=True
    ).click()
    expect(user_row).to_contain_text("enabled")

    # An account with a user left is refused, in the API's words.
    account_row = row(page, "Accounts", account)
    account_row.get_by_role(
        "button", name=f"Delete {account}", exact=True
    ).click()
    page.get_by_role("dialog", name=f"Delete account {account}?").get_by_role(
        "button", name="Delete"
    ).click()
    expect(page.get_by_text(re.compile("delete them first"))).to_be_visible()
    expect(account_row).to_have_count(1)

    # Deleting asks first.
    user_row.get_by_role(
        "button", name=f"Delete {username}", exact=True
    ).click()
    confirm = page.get_by_role("dialog", name=f"Delete user {username}?")
    confirm.get_by_role("button", name="Delete").click()
    expect(user_row).to_have_count(0)

    # Without its user, the account goes.
    account_row.get_by_role(
        "button", name=f"Delete {account}", exact=True
    ).click()
    page.get_by_role("dialog", name=f"Delete account {account}?").get_by_role(
        "button", name="Delete"
    ).click()
    expect(account_row).to_have_count(0)
    # The refused delete's 409 is the one error the browser logs.
    errors = [e for e in page.errors if "status of 409" not in e]
    assert errors == [], errors


def test_change_a_quota_and_see_it(page, api):
    account = api.call(
        "POST", "/v1/accounts", {"name": unique("quota")}, expect=201
    )
    sign_in(page)
    open_admin(page, "Quotas")
    page.get_by_label("Account", exact=True).select_option(account["id"])
    expect(
        page.get_by_role("heading", name=f"Quota of {account['name']}")
    ).to_be_visible()
    page.get_by_role("button", name="Edit limits").click()
    dialog = page.get_by_role("dialog", name=f"Limits of {account['name']}")
    dialog.get_by_label(re.compile("^Instances")).fill("7")
    dialog.get_by_label(re.compile("^vCPUs")).fill("-1")
    dialog.get_by_role("button", name="Save limits").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("meter", name="Instances")).to_have_attribute(
        "aria-valuetext", "0 of 7"
    )
    expect(page.get_by_role("meter", name="vCPUs")).to_have_attribute(
        "aria-valuetext", "0 used (no limit)"
    )
    limits = api.call("GET", f"/v1/quotas/{account['id']}")["limits"]
    assert (limits["instances"], limits["vcpus"]) == (7, -1)
    snapshot(page, "admin-quotas")
    assert page.errors == [], page.errors


def test_enroll_a_bare_metal_node_and_manage_it(page, api):
    name = unique("bm")
    mac = "52:54:00:" + ":".join(f"{b:02x}" for b in secrets.token_bytes(3))
    sign_in(page)
    open_admin(page, "Bare-metal nodes")
    page.get_by_role("button", name="Enroll node").click()
    dialog = page.get_by_role("dialog", name="Enroll node")
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_label("BMC address", exact=True).fill("10.0.0.21")
    dialog.get_by_label("BMC username", exact=True).fill("root")
    dialog.get_by_label("BMC password", exact=True).fill("calvin")
    dialog.get_by_label("CPUs", exact=True).fill("16")
    dialog.get_by_label("Memory (MB)", exact=True).fill("65536")
    dialog.get_by_label("Disk (GB)", exact=True).fill("480")
    dialog.get_by_label("MAC addresses", exact=True).fill(mac)
    dialog.get_by_role("button", name="Enroll").click()
    expect(dialog).to_be_hidden()
    node = row(page, "Bare-metal nodes", name)
    expect(node).to_contain_text("enroll")
    expect(node).to_contain_text(mac)

    node.get_by_role("button", name=f"Manage {name}", exact=True).click()
    expect(node).to_contain_text("manageable", timeout=30000)
    expect(node.get_by_title("power off")).to_be_visible()
    expect(
        node.get_by_role("button", name=f"Provide {name}", exact=True)
    ).to_be_visible()

    node.get_by_role("button", name=f"Maintenance {name}", exact=True).click()
    dialog = page.get_by_role("dialog", name=f"Maintenance for {name}")
    dialog.get_by_label("Reason").fill("swapping a disk")
    dialog.get_by_role("button", name="Start maintenance").click()
    expect(node.get_by_title("swapping a disk")).to_have_text("maintenance")
    node.get_by_role(
        "button", name=f"End maintenance {name}", exact=True
    ).click()
    expect(
        node.get_by_role("button", name=f"Maintenance {name}", exact=True)
    ).to_be_visible()
    expect(node.get_by_title("swapping a disk")).to_have_count(0)
    snapshot(page, "admin-baremetal")

    node.get_by_role("button", name=f"Delete {name}", exact=True).click()
    page.get_by_role("dialog", name=f"Delete node {name}?").get_by_role(
        "button", name="Delete"
    ).click()
    expect(node).to_have_count(0)
    assert page.errors == [], page.errors


def test_a_member_sees_no_admin_link_and_the_page_says_admins_only(page, api):
    username = unique("mem")
    password = "mem-" + secrets.token_hex(6)
    api.user(username, password, "member")
    sign_in(page, username, password)
    expect(nav(page).get_by_role("link", name="Overview")).to_be_visible()
    expect(nav(page).get_by_role("link", name="Admin")).to_have_count(0)
    page.goto("/ui/#/admin")
    expect(page.get_by_role("alert")).to_contain_text("admins only")
    snapshot(page, "admin-refused")
    # Nor would the API have answered them.
    token = api.login(username, password)["token"]
    api.call("GET", "/v1/hosts", token=token, expect=403)
