"""The usage ledger on the real deployment: a billing system reads one open
and one close per instance lifetime, and nothing for a build that failed."""

import pytest
from conftest import first_image

from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.functional


def test_instance_lifetime_is_one_open_and_one_close(make_deployment):
    dep = make_deployment(conf={"fake_hva": {"fail_spawn_pattern": "^broken"}})
    c = dep.client()
    img = first_image(c)
    inst = c.instances.create(name="billed", flavor="medium", image=img)
    c.tasks.wait(inst["task_id"], timeout=60)
    d = c.instances.delete(inst["id"])
    c.tasks.wait(d["task_id"], timeout=60)
    bad = c.instances.create(name="broken", flavor="small", image=img)
    wait_until(
        lambda: c.tasks.get(bad["task_id"])["status"] == "failed",
        60,
        "the broken build to fail",
    )
    d = c.instances.delete(bad["id"])
    c.tasks.wait(d["task_id"], timeout=60)

    def ledger():
        items = c._session.get("/v1/usage")["items"]
        return items if len(items) >= 2 else None

    items = wait_until(ledger, 30, "the collector to write the ledger")
    assert [(r["resource_id"], r["event"]) for r in items] == [
        (inst["id"], "open"),
        (inst["id"], "close"),
    ]
    assert all(r["flavor"] == "medium" and r["vcpus"] == 2 for r in items)
    assert items[0]["at"] <= items[1]["at"]
    # Reading forward from a marker gives what came after it.
    after = c._session.get("/v1/usage", params={"marker": items[0]["id"]})
    assert [r["event"] for r in after["items"]] == ["close"]
