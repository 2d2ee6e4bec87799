"""The dashboard against a deployment of real guests (libvirt + QEMU): a
user signs in, launches an instance from the page with a key pair and a
script, watches its serial console show the guest booting and what reached
it, and deletes it from the page; nothing is left on the host.

The other dashboard tests (tests/ui) run on the all-in-one's fake drivers;
this one proves that what the page shows is a real machine's."""

import os
import re
import uuid

import pytest
from conftest import ADMIN_PASSWORD, BOOT_TIMEOUT, virsh, wait_until

pytestmark = pytest.mark.functional

CHROMIUM = "/usr/bin/chromium"
MARK = "ARAME-TEST-IMAGE"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), (
        f"{CHROMIUM} is missing: apt-get install chromium (tools/test-all)"
    )
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu"],
        )
        yield b
        b.close()


def test_launch_watch_the_console_and_delete_from_the_page(
    browser, vm_deployment, vm_client, vm_image
):
    from playwright.sync_api import expect

    name = f"webvm-{uuid.uuid4().hex[:6]}"
    key = vm_client.key_pairs.create(name=f"webkey-{name[-6:]}")
    context = browser.new_context(
        base_url=vm_deployment.api_url,
        viewport={"width": 1360, "height": 860},
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    iid = None
    try:
        page.goto("/ui/")
        page.get_by_label("Username", exact=True).fill("admin")
        page.get_by_label("Password", exact=True).fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Overview")).to_be_visible()
        page.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Instances"
        ).click()
        page.get_by_role("button", name="Launch instance").click()
        dialog = page.get_by_role("dialog", name="Launch instance")
        dialog.get_by_label("Name", exact=True).fill(name)
        dialog.get_by_label("Flavor", exact=True).select_option("small")
        dialog.get_by_label("Image", exact=True).select_option(vm_image)
        dialog.get_by_label("Key pairs", exact=True).select_option(key["id"])
        dialog.get_by_label("User data", exact=True).fill(
            f"#!/bin/sh\necho WEB-LAUNCHED={name}\n"
        )
        dialog.get_by_role("button", name="Launch").click()
        expect(dialog).to_be_hidden()

        row = page.get_by_role("row").filter(
            has=page.get_by_role("link", name=name, exact=True)
        )
        expect(row).to_contain_text("running", timeout=BOOT_TIMEOUT * 1000)
        iid = next(
            i["id"] for i in vm_client.instances.list() if i["name"] == name
        )
        # A real domain, not a record.
        assert iid in virsh("list", "--name").split()

        row.get_by_role("link", name=name).click()
        expect(
            page.get_by_role("heading", name=re.compile(name))
        ).to_be_visible()
        # The console refreshes while open: the guest's own words appear
        # as it boots, the key and the script among them.
        console = page.get_by_label("Console output")
        expect(console).to_contain_text(
            f"{MARK} ready", timeout=BOOT_TIMEOUT * 1000
        )
        expect(console).to_contain_text(f"WEB-LAUNCHED={name}")
        expect(console).to_contain_text(f"{MARK} ssh-key={key['fingerprint']}")
        steps = page.get_by_role("list", name=re.compile(r"^Steps of create"))
        expect(steps).to_contain_text("spawn")

        page.get_by_role("button", name="Delete", exact=True).click()
        page.get_by_role("dialog", name=f"Delete {name}?").get_by_role(
            "button", name="Delete", exact=True
        ).click()
        expect(
            page.get_by_role("heading", name="Instances", exact=True)
        ).to_be_visible()
        wait_until(
            lambda: vm_client.instances.get(iid)["status"] == "terminated",
            BOOT_TIMEOUT,
            f"{name} terminated",
            interval=0.5,
        )
        assert iid not in virsh("list", "--all", "--name").split()
        assert errors == [], errors
    finally:
        context.close()
        if iid is not None and iid in virsh("list", "--all", "--name"):
            vm_client.instances.delete(iid)
