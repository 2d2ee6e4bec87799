"""The Routers and Floating IPs pages in headless Chromium against the
all-in-one (its L3 agent keeps routers in memory): a router created from
the page, a floating IP allocated, associated with an instance and seen
on the instance's page, a delete of the router refused in the API's
words, the gateway cleared and set again, the address disassociated and
released, the router deleted; an admin's external network from the
Networks page; a reader offered no write buttons."""

import random
import uuid

import pytest
from playwright.sync_api import expect

from tests.helpers.waiting import wait_until
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


def open_page(page, label):
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=label, exact=True
    ).click()
    expect(page.get_by_role("heading", name=label, exact=True)).to_be_visible()


def row(page, table, text):
    return (
        page.get_by_role("table", name=table)
        .get_by_role("row")
        .filter(has_text=text)
    )


def unexpected_errors(page, status):
    """The console's errors but the browser's line for the error answer
    the flow brings on purpose."""
    return [
        e
        for e in page.errors
        if "Failed to load resource" not in e or f" {status} " not in e
    ]


@pytest.fixture(scope="module")
def external(api):
    """An external network, made by the admin through the API (the
    routers' way out; its pool gives the floating IPs)."""
    return api.call(
        "POST",
        "/v1/networks",
        {
            "name": unique("public"),
            "cidr": "198.51.100.0/24",
            "dns_domain": "public.example",
            "segmentation": "flat",
            "external": True,
            "physical_network": "public",
        },
        expect=201,
    )


def private_network(api) -> dict:
    return api.call(
        "POST",
        "/v1/networks",
        {
            "name": unique("back"),
            "cidr": f"10.{random.randint(100, 250)}.{random.randint(0, 250)}"
            ".0/24",
            "dns_domain": "back.internal",
            "segmentation": "vxlan",
        },
        expect=201,
    )


def launch_on(api, name, network) -> dict:
    image = api.call("GET", "/v1/images")["items"][0]["id"]
    flavor = api.call("GET", "/v1/flavors")["items"][0]["name"]
    inst = api.call(
        "POST",
        "/v1/instances",
        {"name": name, "flavor": flavor, "image": image, "network": network},
        expect=202,
    )
    wait_until(
        lambda: api.instance_status(inst["id"]) == "running",
        timeout=60,
        what=f"{name} running",
    )
    return api.call("GET", f"/v1/instances/{inst['id']}")


def test_router_and_floating_ip_from_the_pages(page, api, external):
    net = private_network(api)
    inst = launch_on(api, unique("web"), net["id"])
    fixed = inst["addresses"][0]["ip_address"]
    name = unique("edge")
    sign_in(page)

    # A router joining the network to the external one.
    open_page(page, "Routers")
    page.get_by_role("button", name="Create router").click()
    dialog = page.get_by_role("dialog", name="Create router")
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_label("External network", exact=True).select_option(
        external["id"]
    )
    dialog.get_by_label("Networks", exact=True).select_option([net["id"]])
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_be_hidden()
    router = row(page, "Routers", name)
    expect(router).to_contain_text("active")
    expect(router).to_contain_text(external["name"])
    expect(router).to_contain_text(net["name"])
    snapshot(page, "routers")

    # A floating IP of the external network, at an address of its pool.
    address = f"198.51.100.{random.randint(150, 250)}"
    open_page(page, "Floating IPs")
    page.get_by_role("button", name="Allocate").click()
    dialog = page.get_by_role("dialog", name="Allocate floating IP")
    dialog.get_by_label("External network", exact=True).select_option(
        external["id"]
    )
    dialog.get_by_label("Address", exact=True).fill(address)
    dialog.get_by_role("button", name="Allocate").click()
    expect(dialog).to_be_hidden()
    fip = row(page, "Floating IPs", address)
    expect(fip).to_contain_text("down")
    expect(fip).to_contain_text(external["name"])

    # Associated with the instance: its row, then the instance's page.
    fip.get_by_role("button", name="Associate").click()
    dialog = page.get_by_role("dialog", name=f"Associate {address}")
    dialog.get_by_label("Instance", exact=True).select_option(inst["id"])
    dialog.get_by_role("button", name="Associate").click()
    expect(dialog).to_be_hidden()
    expect(fip).to_contain_text("active")
    expect(fip).to_contain_text(inst["name"])
    expect(fip).to_contain_text(fixed)
    snapshot(page, "floating-ips")

    # The router carries it: its delete is refused, in the API's words.
    rt = api.call("GET", f"/v1/routers/{name}")
    said = api.call("DELETE", f"/v1/routers/{rt['id']}", expect=409)
    open_page(page, "Routers")
    router.get_by_role("button", name="Delete").click()
    confirm = page.get_by_role("dialog", name=f"Delete {name}?")
    confirm.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="carries")).to_have_text(
        said["error"]["message"]
    )
    expect(router).to_contain_text("active")

    fip_row_on_instance = (
        page.get_by_role("table", name="Addresses")
        .get_by_role("row")
        .filter(has_text=fixed)
    )
    page.goto(f"/ui/#/instances/{inst['id']}")
    expect(fip_row_on_instance).to_contain_text(address)
    snapshot(page, "instance-floating-ip")

    # Disassociated (the account keeps it), then released.
    open_page(page, "Floating IPs")
    fip.get_by_role("button", name="Disassociate").click()
    confirm = page.get_by_role("dialog", name=f"Disassociate {address}?")
    confirm.get_by_role("button", name="Disassociate").click()
    expect(fip).to_contain_text("down")
    expect(fip.get_by_role("button", name="Associate")).to_be_visible()
    page.goto(f"/ui/#/instances/{inst['id']}")
    expect(fip_row_on_instance).not_to_contain_text(address)
    open_page(page, "Floating IPs")
    fip.get_by_role("button", name="Release").click()
    confirm = page.get_by_role("dialog", name=f"Release {address}?")
    confirm.get_by_role("button", name="Release").click()
    expect(fip).to_have_count(0)
    held = [f["address"] for f in api.call("GET", "/v1/floating_ips")["items"]]
    assert address not in held

    # The gateway cleared and set again; the router deleted.
    open_page(page, "Routers")
    router.get_by_role("button", name="Clear gateway").click()
    confirm = page.get_by_role("dialog", name=f"Clear the gateway of {name}?")
    confirm.get_by_role("button", name="Clear gateway").click()
    expect(router.get_by_role("button", name="Set gateway")).to_be_visible()
    expect(router).not_to_contain_text(external["name"])
    router.get_by_role("button", name="Set gateway").click()
    dialog = page.get_by_role("dialog", name=f"Set the gateway of {name}")
    dialog.get_by_label("External network", exact=True).select_option(
        external["id"]
    )
    dialog.get_by_role("button", name="Set gateway").click()
    expect(dialog).to_be_hidden()
    expect(router).to_contain_text(external["name"])
    expect(router).to_contain_text("active")
    router.get_by_role("button", name="Delete").click()
    confirm = page.get_by_role("dialog", name=f"Delete {name}?")
    confirm.get_by_role("button", name="Delete", exact=True).click()
    expect(router).to_have_count(0)
    assert unexpected_errors(page, 409) == [], page.errors


def test_a_network_added_to_a_router_and_removed(page, api):
    first, second = private_network(api), private_network(api)
    name = unique("inner")
    api.call(
        "POST",
        "/v1/routers",
        {"name": name, "networks": [first["id"]]},
        expect=202,
    )
    sign_in(page)
    open_page(page, "Routers")
    router = row(page, "Routers", name)
    expect(router).to_contain_text(first["name"])
    router.get_by_role("button", name="Add network").click()
    dialog = page.get_by_role("dialog", name=f"Add a network to {name}")
    dialog.get_by_label("Network", exact=True).select_option(second["id"])
    dialog.get_by_role("button", name="Add network").click()
    expect(dialog).to_be_hidden()
    expect(router).to_contain_text(second["name"])

    # The second network again on another router: the API's 409, in
    # the dialog, which stays open.
    other = unique("other")
    said = api.call(
        "POST",
        "/v1/routers",
        {"name": other, "networks": [second["id"]]},
        expect=409,
    )["error"]["message"]
    page.get_by_role("button", name="Create router").click()
    dialog = page.get_by_role("dialog", name="Create router")
    dialog.get_by_label("Name", exact=True).fill(other)
    dialog.get_by_label("Networks", exact=True).select_option([second["id"]])
    dialog.get_by_role("button", name="Create").click()
    expect(dialog.get_by_role("alert").first).to_have_text(said)
    dialog.get_by_role("button", name="Cancel").click()
    expect(row(page, "Routers", other)).to_have_count(0)

    router.get_by_role("button", name="Remove network").click()
    dialog = page.get_by_role("dialog", name=f"Remove a network from {name}")
    dialog.get_by_label("Network", exact=True).select_option(first["id"])
    dialog.get_by_role("button", name="Remove network").click()
    expect(dialog).to_be_hidden()
    expect(router).not_to_contain_text(first["name"])
    expect(router).to_contain_text(second["name"])
    expect(router).to_contain_text("active")
    assert unexpected_errors(page, 409) == [], page.errors


def test_an_admin_makes_an_external_network_from_the_page(page, api):
    name = unique("ext")
    sign_in(page)
    open_page(page, "Networks")
    page.get_by_role("button", name="Create network").click()
    dialog = page.get_by_role("dialog", name="Create network")
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_label("CIDR", exact=True).fill("192.0.2.0/24")
    dialog.get_by_label("DNS domain", exact=True).fill("ext.example")
    dialog.get_by_label("Segmentation", exact=True).select_option("flat")
    dialog.get_by_label("External", exact=True).check()
    dialog.get_by_label("Physical network", exact=True).fill("public")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_be_hidden()
    net = row(page, "Networks", name)
    expect(net).to_contain_text("external")
    snapshot(page, "networks-external")
    (made,) = api.call("GET", f"/v1/networks?name={name}")["items"]
    assert made["external"] and made["segmentation"] == "flat"
    assert made["physical_network"] == "public"
    assert not page.errors, page.errors


def test_a_reader_sees_no_write_buttons(page, api, external):
    reader = unique("reader")
    api.user(reader, "reader-pass-1", "reader")
    net = private_network(api)
    api.call(
        "POST",
        "/v1/routers",
        {"name": unique("seen"), "networks": [net["id"]]},
        expect=202,
    )
    api.call(
        "POST", "/v1/floating_ips", {"network": external["id"]}, expect=201
    )
    sign_in(page, reader, "reader-pass-1")
    for nav in ("Routers", "Floating IPs"):
        open_page(page, nav)
        table = page.get_by_role("table", name=nav)
        expect(table.get_by_role("row").nth(1)).to_be_visible()
        expect(table).not_to_contain_text("Loading")
        expect(page.get_by_role("main").get_by_role("button")).to_have_count(0)
