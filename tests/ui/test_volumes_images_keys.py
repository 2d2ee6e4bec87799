"""The volumes, images and key pairs pages in headless Chromium against
the all-in-one: a volume created, attached to a running instance,
refused a delete while attached (the API's words), detached, snapshotted
and deleted; an image uploaded from a file with its progress bar; a key
pair generated (its private key downloaded once) and one imported; a
reader offered no write buttons."""

import hashlib
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import ADMIN_PASSWORD, snapshot

pytestmark = pytest.mark.ui

# A public key as `ssh-keygen -t ed25519` writes it.
PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHdYFO3P3RmH4Lz3Vl2z8NzlUYBf7wE"
    "n3M5oEjx0aD3u ui@test"
)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def sign_in(page, username="admin", password=ADMIN_PASSWORD):
    page.goto("/ui/")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def open_page(page, nav_label, heading):
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=nav_label
    ).click()
    expect(
        page.get_by_role("heading", name=heading, exact=True)
    ).to_be_visible()


def row(page, name, table):
    """The row of `table` showing `name` (as a link or as text)."""
    return (
        page.get_by_role("table", name=table, exact=True)
        .get_by_role("row")
        .filter(has_text=name)
    )


def unexpected(errors):
    """The page's console errors less the browser's own line for the 409
    the flow provoked on purpose."""
    return [e for e in errors if "status of 409" not in e]


def dialog(page, title):
    return page.get_by_role("dialog", name=title)


def create_volume(page, name):
    page.get_by_role("button", name="Create volume").click()
    d = dialog(page, "Create volume")
    d.get_by_label("Name", exact=True).fill(name)
    d.get_by_label("Size (GB)").fill("1")
    d.get_by_role("button", name="Create").click()
    expect(d).to_be_hidden()
    r = row(page, name, "Volumes")
    expect(r.get_by_text("available", exact=True)).to_be_visible()
    return r


def attach(page, name, instance_id):
    page.get_by_role("button", name="Attach").click()
    d = dialog(page, f"Attach {name}")
    d.get_by_label("Instance").select_option(instance_id)
    d.get_by_role("button", name="Attach").click()
    expect(d).to_be_hidden()


def delete_volume(page, name):
    """The header's Delete (a snapshot row may have one too), confirmed;
    -> the dialog, still open if the API refused."""
    page.get_by_role("button", name="Delete", exact=True).first.click()
    d = dialog(page, f"Delete volume {name}?")
    d.get_by_role("button", name="Delete volume").click()
    return d


def test_a_volume_created_snapshotted_and_deleted(page, api):
    name = unique("data")
    sign_in(page)
    open_page(page, "Volumes", "Volumes")
    r = create_volume(page, name)
    snapshot(page, "volumes")

    r.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    info = page.get_by_role("region", name="Details")
    expect(info.get_by_text("available", exact=True)).to_be_visible()

    page.get_by_role("button", name="Create snapshot").click()
    d = dialog(page, f"Snapshot {name}")
    d.get_by_label("Name", exact=True).fill(f"{name}-s1")
    d.get_by_role("button", name="Create snapshot").click()
    expect(d).to_be_hidden()
    snaps = page.get_by_role("table", name="Snapshots of this volume")
    s1 = snaps.get_by_role("row").filter(has_text=f"{name}-s1")
    expect(s1.get_by_text("available", exact=True)).to_be_visible()
    snapshot(page, "volume")

    # Its snapshot holds it: refused, in the API's words, dialog open.
    d = delete_volume(page, name)
    expect(d.get_by_role("alert")).to_contain_text(
        re.compile(r"has snapshots: snap-\w+; delete them first")
    )
    d.get_by_role("button", name="Cancel").click()

    s1.get_by_role("button", name="Delete").click()
    d = dialog(page, f"Delete snapshot {name}-s1?")
    d.get_by_role("button", name="Delete snapshot").click()
    expect(d).to_be_hidden()
    expect(s1).to_have_count(0)

    d = delete_volume(page, name)
    expect(d).to_be_hidden()
    expect(
        page.get_by_role("heading", name="Volumes", exact=True)
    ).to_be_visible()
    expect(row(page, name, "Volumes")).to_have_count(0)
    assert not unexpected(page.errors), page.errors


def test_a_volume_attached_refused_a_delete_and_detached(page, api):
    inst = api.launch(unique("att-vm"))
    name = unique("att")
    sign_in(page)
    open_page(page, "Volumes", "Volumes")
    create_volume(page, name).get_by_role("link", name=name).click()
    info = page.get_by_role("region", name="Details")
    attach(page, name, inst["id"])
    expect(info.get_by_text("attached", exact=True)).to_be_visible(
        timeout=30000
    )
    expect(info.get_by_role("link", name=inst["id"])).to_be_visible()

    d = delete_volume(page, name)
    expect(d.get_by_role("alert")).to_contain_text(
        f"is attached to {inst['id']}: detach it first"
    )
    d.get_by_role("button", name="Cancel").click()

    page.get_by_role("button", name="Detach").click()
    expect(info.get_by_text("available", exact=True)).to_be_visible()
    d = delete_volume(page, name)
    expect(d).to_be_hidden()
    expect(row(page, name, "Volumes")).to_have_count(0)


def test_an_image_uploaded_from_a_file_with_its_progress(page, api, tmp_path):
    name = unique("img")
    data = bytes(range(256)) * 4096  # 1 MiB
    disk = tmp_path / f"{name}.raw"
    disk.write_bytes(data)
    sign_in(page)
    open_page(page, "Images", "Images")

    page.get_by_role("button", name="Upload image").click()
    d = dialog(page, "Upload image")
    d.get_by_label("File").set_input_files(str(disk))
    # The name comes from the file's.
    expect(d.get_by_label("Name", exact=True)).to_have_value(name)
    d.get_by_label("Format").select_option("raw")
    snapshot(page, "image-upload")
    # The progress bar's last word, before the dialog closes on success.
    page.evaluate(
        """() => new Promise((resolve) => {
          const seen = [];
          window.__uploadProgress = seen;
          new MutationObserver(() => {
            const bar = document.querySelector('dialog progress');
            if (bar && bar.hasAttribute('value')) seen.push(bar.position);
          }).observe(document.body, {subtree: true, childList: true,
            attributes: true, characterData: true});
          resolve();
        })"""
    )
    d.get_by_role("button", name="Create and upload").click()
    expect(d).to_be_hidden()
    r = row(page, name, "Images")
    expect(r.get_by_text("available", exact=True)).to_be_visible()
    expect(r).to_contain_text("1.0 MiB")
    assert page.evaluate("Math.max(0, ...window.__uploadProgress)") == 1
    snapshot(page, "images")

    img = next(
        i
        for i in api.call("GET", f"/v1/images?name={name}")["items"]
        if i["name"] == name
    )
    assert img["status"] == "available"
    assert img["sha256"] == hashlib.sha256(data).hexdigest()

    # In use by nothing: the delete goes through.
    r.get_by_role("button", name="Delete").click()
    d = dialog(page, f"Delete image {name}?")
    d.get_by_role("button", name="Delete image").click()
    expect(d).to_be_hidden()
    expect(row(page, name, "Images")).to_have_count(0)
    assert not page.errors, page.errors


def test_a_pending_image_given_its_bytes_from_its_row(page, api, tmp_path):
    # Made by a program that never sent the bytes: pending, no sha256.
    name = unique("pend")
    api.call("POST", "/v1/images", {"name": name, "format": "raw"}, expect=201)
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\x5a" * 65536)
    sign_in(page)
    open_page(page, "Images", "Images")
    r = row(page, name, "Images")
    expect(r.get_by_text("pending", exact=True)).to_be_visible()
    r.get_by_role("button", name="Upload").click()
    d = dialog(page, f"Upload {name}")
    d.get_by_label("File").set_input_files(str(disk))
    d.get_by_role("button", name="Upload").click()
    expect(d).to_be_hidden()
    expect(r.get_by_text("available", exact=True)).to_be_visible()
    expect(r).to_contain_text("64 KiB")


def test_an_image_in_use_is_refused_a_delete_naming_its_user(page, api):
    inst = api.launch(unique("img-vm"))
    image = api.call("GET", f"/v1/instances/{inst['id']}")["image"]
    name = api.call("GET", f"/v1/images/{image}")["name"]
    sign_in(page)
    open_page(page, "Images", "Images")
    r = (
        page.get_by_role("table", name="Images")
        .get_by_role("row")
        .filter(has_text=image)
    )
    r.get_by_role("button", name="Delete").click()
    d = dialog(page, f"Delete image {name}?")
    d.get_by_role("button", name="Delete image").click()
    # Other tests' instances use it too: the API names a few of them.
    expect(d.get_by_role("alert")).to_contain_text(
        re.compile(
            rf"image {image} is in use by \d+ instances? .*: delete them first"
        )
    )
    d.get_by_role("button", name="Cancel").click()
    expect(r.get_by_text("available", exact=True)).to_be_visible()


def test_a_key_pair_generated_downloaded_once_and_one_imported(page):
    gen, imp = unique("gen"), unique("imp")
    sign_in(page)
    open_page(page, "Key pairs", "Key pairs")

    page.get_by_role("button", name="Generate key pair").click()
    d = dialog(page, "Generate key pair")
    d.get_by_label("Name", exact=True).fill(gen)
    d.get_by_role("button", name="Generate").click()
    d = dialog(page, f"Key pair {gen} generated")
    expect(d.get_by_role("alert")).to_contain_text("shown this once")
    with page.expect_download() as got:
        d.get_by_role("link", name="Download private key").click()
    download = got.value
    assert download.suggested_filename == f"{gen}.pem"
    key = pathlib_text(download.path())
    assert "PRIVATE KEY" in key
    snapshot(page, "key-pair-generated")
    d.get_by_role("button", name="Done").click()
    expect(d).to_be_hidden()
    expect(row(page, gen, "Key pairs")).to_contain_text("ed25519")

    page.get_by_role("button", name="Import key pair").click()
    d = dialog(page, "Import key pair")
    d.get_by_label("Name", exact=True).fill(imp)
    d.get_by_label("Public key").fill(PUBLIC_KEY)
    d.get_by_role("button", name="Import").click()
    expect(d).to_be_hidden()
    expect(row(page, imp, "Key pairs")).to_contain_text("SHA256:")
    snapshot(page, "key-pairs")

    row(page, imp, "Key pairs").get_by_role("button", name="Delete").click()
    d = dialog(page, f"Delete key pair {imp}?")
    d.get_by_role("button", name="Delete key pair").click()
    expect(row(page, imp, "Key pairs")).to_have_count(0)
    assert not page.errors, page.errors


def pathlib_text(path) -> str:
    with open(path) as f:
        return f.read()


def test_a_reader_sees_no_write_buttons(page, api):
    reader = unique("reader")
    api.user(reader, "reader-pass-1", "reader")
    api.call("POST", "/v1/key_pairs", {"name": unique("kp")}, expect=201)
    sign_in(page, reader, "reader-pass-1")
    for nav, table in (
        ("Volumes", "Volumes"),
        ("Images", "Images"),
        ("Key pairs", "Key pairs"),
    ):
        open_page(page, nav, nav)
        expect(page.get_by_role("table", name=table)).to_be_visible()
        expect(page.get_by_role("main").get_by_role("button")).to_have_count(0)
