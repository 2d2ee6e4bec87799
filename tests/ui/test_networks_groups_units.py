"""The Networks, Security groups and Unit groups pages in headless
Chromium against the all-in-one (fake drivers): the flows a user clicks
through, elements found by role and label."""

import re
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


def open_nav(page, label):
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=label
    ).click()
    expect(page.get_by_role("heading", name=label, exact=True)).to_be_visible()


def unexpected_errors(page, status):
    """The page's console errors but the browser's own line for an error
    answer the flow brings on purpose (a 422 the page shows, the 404 that
    tells the page a group is gone)."""
    return [
        e
        for e in page.errors
        if "Failed to load resource" not in e or f" {status} " not in e
    ]


def row_with(scope, text):
    return scope.get_by_role("row").filter(has_text=text)


def test_create_a_network_and_delete_it(page, api):
    name = unique("net")
    sign_in(page)
    open_nav(page, "Networks")
    page.get_by_role("button", name="Create network").click()
    dialog = page.get_by_role("dialog", name="Create network")
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_label("CIDR", exact=True).fill("10.77.0.0/33")
    dialog.get_by_label("DNS domain", exact=True).fill("lab.internal")
    dialog.get_by_role("button", name="Create").click()
    # The API's words for a bad CIDR, in the dialog, which stays open.
    said = api.call(
        "POST",
        "/v1/networks",
        {
            "name": name,
            "cidr": "10.77.0.0/33",
            "dns_domain": "lab.internal",
            "segmentation": "vxlan",
        },
        expect=422,
    )["error"]["message"]
    expect(dialog.get_by_role("alert").first).to_contain_text(said)
    dialog.get_by_label("CIDR", exact=True).fill("10.77.0.0/24")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_be_hidden()

    table = page.get_by_role("table", name="Networks")
    row = row_with(table, name)
    expect(row).to_contain_text("10.77.0.0/24")
    expect(row).to_contain_text("lab.internal")
    snapshot(page, "networks")

    row.get_by_role("button", name="Delete").click()
    confirm = page.get_by_role("dialog", name=f"Delete {name}?")
    expect(confirm).to_contain_text("cannot be undone")
    confirm.get_by_role("button", name="Delete", exact=True).click()
    expect(row).to_have_count(0)
    names = [n["name"] for n in api.call("GET", "/v1/networks")["items"]]
    assert name not in names
    assert unexpected_errors(page, 422) == [], page.errors


def test_security_group_rules_with_an_error_shown_at_its_line(page, api):
    name = unique("sg")
    sign_in(page)
    open_nav(page, "Security groups")
    page.get_by_role("button", name="Create security group").click()
    dialog = page.get_by_role("dialog", name="Create security group")
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_label("Description").fill("web servers")
    dialog.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    sg_id = page.url.rsplit("/", 1)[1]
    rules = page.get_by_role("table", name="Rules")

    # One rule from the form.
    form = page.get_by_role("form", name="Add a rule")
    form.get_by_label("Protocol").select_option("tcp")
    form.get_by_label("From port").fill("22")
    form.get_by_label("To port").fill("22")
    form.get_by_label("Source").fill("ip4:0.0.0.0/0")
    form.get_by_role("button", name="Add rule").click()
    expect(row_with(rules, "0.0.0.0/0")).to_have_count(1)
    text = page.get_by_label("Rules text")
    expect(text).to_have_value("tcp:22,22,ip4:0.0.0.0/0")

    # A text whose second line is wrong: the API's line and column, at
    # that line.
    bad = "tcp:22,22,ip4:0.0.0.0/0\ntcp:80,8x0,ip4:0.0.0.0/0\n"
    err = api.call(
        "POST",
        "/v1/security_groups",
        {"name": unique("probe"), "rules_text": bad},
        expect=422,
    )["error"]
    assert err["details"]["line"] == 2, err
    text.fill(bad)
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("img", name="Error on line 2")).to_be_visible()
    where = f"Line 2, column {err['details']['column']}"
    message = page.get_by_role("region", name="Rules as text").get_by_role(
        "alert"
    )
    expect(message).to_contain_text(where)
    expect(message).to_contain_text(err["message"])
    expect(text).to_have_attribute("aria-invalid", "true")
    snapshot(page, "security-group-error")
    # Nothing was saved.
    saved = api.call("GET", f"/v1/security_groups/{sg_id}")
    assert len(saved["rules"]) == 1

    text.fill(bad.replace("8x0", "80"))
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("img", name="Error on line 2")).to_have_count(0)
    expect(message).to_be_hidden()
    expect(
        rules.get_by_role("button", name=re.compile("^Remove"))
    ).to_have_count(2)

    rules.get_by_role("button", name="Remove tcp:22,22,ip4:0.0.0.0/0").click()
    expect(
        rules.get_by_role("button", name=re.compile("^Remove"))
    ).to_have_count(1)
    saved = api.call("GET", f"/v1/security_groups/{sg_id}")
    assert [(r["from_port"], r["cidr"]) for r in saved["rules"]] == [
        (80, "0.0.0.0/0")
    ]
    snapshot(page, "security-group")

    page.get_by_role("button", name="Delete group").click()
    page.get_by_role("dialog", name=f"Delete {name}?").get_by_role(
        "button", name="Delete", exact=True
    ).click()
    expect(
        page.get_by_role("heading", name="Security groups", exact=True)
    ).to_be_visible()
    api.call("GET", f"/v1/security_groups/{sg_id}", expect=404)
    assert unexpected_errors(page, 422) == [], page.errors


def test_a_unit_group_from_creation_to_cleanup(page, api):
    group = unique("ug")
    unit = unique("web")
    sign_in(page)
    open_nav(page, "Unit groups")
    page.get_by_role("button", name="Create unit group").click()
    dialog = page.get_by_role("dialog", name="Create unit group")
    dialog.get_by_label("Name", exact=True).fill(group)
    dialog.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name=re.compile(group))).to_be_visible()

    page.get_by_role("button", name="Create unit").click()
    dialog = page.get_by_role("dialog", name="Create unit")
    for label in ("Flavor", "Image", "Root disk (GB)", "Key pairs"):
        # Optional fields say so after their label.
        expect(dialog.get_by_label(label)).to_be_visible()
    dialog.get_by_label("Name", exact=True).fill(unit)
    dialog.get_by_label("Nodes", exact=True).fill("2")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_be_hidden()

    # The parent task's progress, one event per node, then both running.
    progress = page.get_by_role("region", name="Task progress")
    expect(progress).to_be_visible()
    nodes = page.get_by_role("table", name=f"Nodes of {unit}")
    expect(row_with(nodes, "running")).to_have_count(2, timeout=60000)
    expect(progress).to_contain_text(f"Creating {unit}: done")
    steps = progress.get_by_role("list", name=re.compile("^Steps of create"))
    expect(steps.get_by_role("listitem")).to_have_count(2)
    expect(steps).to_contain_text(f"node {unit}-1")
    expect(nodes).to_contain_text(re.compile(r"\d+\.\d+\.\d+\.\d+"))
    snapshot(page, "unit-group")

    page.get_by_role("button", name="Add nodes").click()
    dialog = page.get_by_role("dialog", name=f"Add nodes to {unit}")
    dialog.get_by_label("Nodes to add").fill("1")
    dialog.get_by_role("button", name="Add").click()
    expect(row_with(nodes, "running")).to_have_count(3, timeout=60000)
    expect(progress).to_contain_text(": done")

    nodes.get_by_role("checkbox", name=f"Select {unit}-1").check()
    page.get_by_role("button", name="Delete selected nodes").click()
    confirm = page.get_by_role("dialog", name="Delete 1 node?")
    expect(confirm).to_contain_text(f"{unit}-1")
    confirm.get_by_role("button", name="Delete", exact=True).click()
    expect(nodes.get_by_role("checkbox")).to_have_count(2, timeout=60000)
    expect(nodes).not_to_contain_text(f"{unit}-1 ")
    left = api.call("GET", f"/v1/units/{unit}?unit_group={group}")
    assert len(left["nodes"]) == 2
    assert f"{unit}-1" not in [n["name"] for n in left["nodes"]]

    card = page.get_by_role("region", name=unit)
    page.get_by_role("button", name="Power off").click()
    page.get_by_role("dialog", name=f"Power off {unit}?").get_by_role(
        "button", name="Power off"
    ).click()
    expect(row_with(nodes, "stopped")).to_have_count(2, timeout=60000)
    expect(card).to_contain_text("powered off")
    page.get_by_role("button", name="Power on").click()
    page.get_by_role("dialog", name=f"Power on {unit}?").get_by_role(
        "button", name="Power on"
    ).click()
    expect(row_with(nodes, "running")).to_have_count(2, timeout=60000)

    page.get_by_role("button", name="Clean up group").click()
    confirm = page.get_by_role("dialog", name=f"Clean up {group}?")
    expect(confirm).to_contain_text("2 nodes")
    confirm.get_by_role("button", name="Clean up").click()
    expect(
        page.get_by_role("heading", name="Unit groups", exact=True)
    ).to_be_visible(timeout=60000)
    expect(page.get_by_role("link", name=group, exact=True)).to_have_count(0)
    api.call("GET", f"/v1/unit_groups/{group}", expect=404)
    assert unexpected_errors(page, 404) == [], page.errors


def test_a_reader_sees_no_create_buttons(page, api):
    sg = api.call(
        "POST",
        "/v1/security_groups",
        {"name": unique("sgr"), "rules_text": "tcp:22,22,ip4:0.0.0.0/0"},
        expect=201,
    )
    ug = api.call(
        "POST", "/v1/unit_groups", {"name": unique("ugr")}, expect=201
    )
    username = unique("reader")
    api.user(username, "reader-pass-1", "reader")
    sign_in(page, username, "reader-pass-1")
    for label, button in (
        ("Networks", "Create network"),
        ("Security groups", "Create security group"),
        ("Unit groups", "Create unit group"),
    ):
        open_nav(page, label)
        expect(page.get_by_role("table", name=label)).to_be_visible()
        expect(page.get_by_role("button", name=button)).to_have_count(0)
    expect(page.get_by_role("link", name=ug["name"])).to_be_visible()

    page.goto(f"/ui/#/security-groups/{sg['id']}")
    expect(page.get_by_role("heading", name=sg["name"])).to_be_visible()
    expect(page.get_by_label("Rules text")).to_have_value(sg["rules_text"])
    expect(page.get_by_label("Rules text")).not_to_be_editable()
    for name in ("Save rules", "Add rule", "Delete group"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(
        page.get_by_role("button", name=re.compile("^Remove"))
    ).to_have_count(0)

    page.goto(f"/ui/#/unit-groups/{ug['id']}")
    expect(
        page.get_by_role("heading", name=re.compile(ug["name"]))
    ).to_be_visible()
    expect(page.get_by_text("No units yet.")).to_be_visible()
    for name in ("Create unit", "Clean up group"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    assert page.errors == [], page.errors
