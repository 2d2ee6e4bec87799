"""Accounts and users through the SDK on the real deployment: a new member
works in their own account only, and losing access is immediate."""

import pytest
from conftest import first_image

from arame.sdk import ArameError, Client

pytestmark = pytest.mark.functional


def test_new_account_member_lifecycle(shared_deployment):
    admin = shared_deployment.client()
    acc = admin.accounts.create("tenant-one")
    admin.users.create("tina", "tina-password", acc["id"], role="member")

    tina = Client(shared_deployment.api_url)
    tina.login("tina", "tina-password")
    inst = tina.instances.create(
        name="tina-vm", flavor="small", image=first_image(admin)
    )
    assert tina.tasks.wait(inst["task_id"], timeout=60)["status"] == "done"
    assert inst["account_id"] == acc["id"]
    assert [a["id"] for a in tina.accounts.list()] == [acc["id"]]

    # The account cannot go while it holds an instance and a user.
    with pytest.raises(ArameError) as err:
        admin.accounts.delete(acc["id"])
    assert err.value.status_code == 409

    # Disabling the user cuts the session at once.
    tina_id = tina.users.list()[0]["id"]
    admin.users.update(tina_id, enabled=False)
    with pytest.raises(ArameError) as err:
        tina.instances.list()
    assert err.value.status_code == 401

    d = admin.instances.delete(inst["id"])
    admin.tasks.wait(d["task_id"], timeout=60)
    admin.users.delete(tina_id)
    admin.accounts.delete(acc["id"])
    assert acc["id"] not in [a["id"] for a in admin.accounts.list()]


def test_key_pair_reaches_the_hypervisor(shared_deployment):
    c = shared_deployment.client()
    kp = c.key_pairs.create("deploy-key")
    assert kp["private_key"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    inst = c.instances.create(
        name="keyed", flavor="small", image=first_image(c), key_pair=kp["id"]
    )
    assert c.tasks.wait(inst["task_id"], timeout=60)["status"] == "done"
    console = c.instances.console(inst["id"])["output"]
    assert "authorized keys: 1" in console
    assert kp["public_key"].split()[1][-12:] in console
    assert "private_key" not in c.key_pairs.get(kp["id"])


def test_quota_is_enforced_and_freed_by_terminate(shared_deployment):
    admin = shared_deployment.client()
    acc = admin.accounts.create("quota-acct")
    admin.users.create("quinn", "quinn-password", acc["id"])
    admin._session.request(
        "PUT", f"/v1/quotas/{acc['id']}", json={"instances": 1}
    )
    q = Client(shared_deployment.api_url)
    q.login("quinn", "quinn-password")
    img = first_image(admin)
    first = q.instances.create(name="only", flavor="small", image=img)
    q.tasks.wait(first["task_id"], timeout=60)
    with pytest.raises(ArameError) as err:
        q.instances.create(name="second", flavor="small", image=img)
    assert err.value.status_code == 429
    assert err.value.details["limit"] == 1
    d = q.instances.delete(first["id"])
    q.tasks.wait(d["task_id"], timeout=60)
    again = q.instances.create(name="second", flavor="small", image=img)
    assert q.tasks.wait(again["task_id"], timeout=60)["status"] == "done"


def test_concurrent_first_creates_of_a_new_account(shared_deployment):
    # The account's first requests race to make its quota row: none of them
    # may fail for it (on InnoDB this used to deadlock into a 500).
    import concurrent.futures

    admin = shared_deployment.client()
    acc = admin.accounts.create("burst-acct")
    admin.users.create("bursty", "bursty-password", acc["id"])
    b = Client(shared_deployment.api_url)
    b.login("bursty", "bursty-password")
    img = first_image(admin)
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        made = list(
            pool.map(
                lambda n: b.instances.create(
                    name=f"burst{n}", flavor="small", image=img
                ),
                range(12),
            )
        )
    assert len({m["id"] for m in made}) == 12
    q = admin._session.get(f"/v1/quotas/{acc['id']}")
    assert q["in_use"]["instances"] == 12
