"""/v1/instances: validation, isolation between accounts, lists, actions."""

import json

import pytest
import sqlalchemy as sa

from arame.common import ids
from arame.common.db import engine, models


def count_instances():
    with engine.session() as s:
        return s.scalar(
            sa.select(sa.func.count()).select_from(models.Instance)
        )


def set_status(instance_id, status):
    with engine.session() as s:
        s.execute(
            sa.update(models.Instance)
            .where(models.Instance.id == instance_id)
            .values(status=status)
        )


# -- create ------------------------------------------------------------------


def test_create_answers_202_with_a_task_and_casts_the_build(
    client, admin, create, scheduler
):
    r = create(admin, name="web-1")
    assert r.status_code == 202, r.text
    body = r.json()
    assert ids.is_valid("instance", body["id"])
    assert ids.is_valid("task", body["task_id"])
    assert body["status"] == "pending"
    assert body["status_reason"] is None
    assert (body["name"], body["hostname"], body["flavor"]) == (
        "web-1",
        "web-1",
        "small",
    )
    assert body["host"] is None and body["addresses"] == []
    assert body["account_id"] == "a-admin"

    assert scheduler.methods() == ["build_instance"]
    _, task_id, instance_id, ctxt = scheduler.casts[0]
    assert (task_id, instance_id) == (body["task_id"], body["id"])
    assert ctxt.account_id == "a-admin" and ctxt.user_id == admin.user_id

    got = client.get(f"/v1/instances/{body['id']}", headers=admin.headers)
    assert got.status_code == 200
    assert got.json()["status"] == "pending"
    task = client.get(f"/v1/tasks/{body['task_id']}", headers=admin.headers)
    assert task.json()["status"] == "queued"
    assert task.json()["action"] == "create"
    assert task.json()["resource_id"] == body["id"]


def test_create_answer_shows_the_same_utc_timestamps_as_get(
    client, admin, create
):
    body = create(admin).json()
    got = client.get(
        f"/v1/instances/{body['id']}", headers=admin.headers
    ).json()
    assert got["created_at"].endswith(("Z", "+00:00"))
    assert body["created_at"] == got["created_at"]
    assert body["updated_at"] == got["updated_at"]


def test_create_records_the_flavor_size(client, admin, create):
    iid = create(admin, flavor="medium").json()["id"]
    with engine.session() as s:
        inst = s.get(models.Instance, iid)
    assert (inst.vcpus, inst.memory_mb, inst.disk_gb) == (2, 2048, 20)


@pytest.mark.parametrize(
    "name,hostname",
    [
        ("Web_1.example", "web-1-example"),
        ("DB01", "db01"),
        ("a", "a"),
        ("9-lives", "9-lives"),
    ],
)
def test_default_hostname_is_a_valid_dns_label(admin, create, name, hostname):
    assert create(admin, name=name).json()["hostname"] == hostname


def test_explicit_hostname(admin, create):
    assert (
        create(admin, name="Web", hostname="front-1").json()["hostname"]
        == "front-1"
    )


@pytest.mark.parametrize(
    "body,field",
    [
        ({"flavor": "huge"}, "flavor"),
        ({"image": "img-zzzzzzzz"}, "image"),
    ],
)
def test_unknown_flavor_or_image_is_422(
    admin, create, scheduler, error_of, body, field
):
    err = error_of(create(admin, **body), 422, "invalid")
    assert err["details"]["field"] == field
    assert count_instances() == 0 and scheduler.casts == []


def test_private_image_of_another_account_is_unknown(
    admin, member, create, error_of
):
    with engine.session() as s:
        s.add(
            models.Image(
                id="img-private1",
                name="mine",
                account_id="a-admin",
                visibility="private",
                format="raw",
                status="available",
            )
        )
    assert create(admin, image="img-private1").status_code == 202
    error_of(create(member, image="img-private1"), 422)


def test_image_not_yet_available_is_422(admin, create, error_of):
    with engine.session() as s:
        s.add(
            models.Image(
                id="img-uploadin",
                name="up",
                account_id="a-admin",
                visibility="public",
                format="raw",
                status="uploading",
            )
        )
    err = error_of(create(admin, image="img-uploadin"), 422)
    assert "uploading" in err["message"]


@pytest.mark.parametrize(
    "name",
    [
        "web;rm -rf /",
        "web\n",
        "web\nx",
        "a..b",
        "..",
        "x" * 300,
        "",
        "-web",
        ".web",
        "web 1",
        "wéb",
        "web/../x",
        "$(id)",
        "x" * 64,
    ],
)
def test_bad_names_are_422_never_5xx(
    client, admin, create, scheduler, error_of, name
):
    err = error_of(create(admin, name=name), 422, "invalid")
    assert err["details"]["fields"][0]["field"] == "name"
    assert count_instances() == 0 and scheduler.casts == []


def test_longest_valid_name_is_accepted(admin, create):
    assert create(admin, name="x" * 63).status_code == 202


@pytest.mark.parametrize(
    "hostname", ["Web", "web_1", "-web", "web-", "a" * 64, "web.example"]
)
def test_bad_hostnames_are_422(admin, create, error_of, hostname):
    error_of(create(admin, hostname=hostname), 422)


@pytest.mark.parametrize(
    "image", ["../../etc/passwd", "img-ABCDEFGH", "img-abc", "img-abcdefgh;"]
)
def test_malformed_image_id_is_422(admin, create, error_of, image):
    error_of(create(admin, image=image), 422)


def test_body_that_is_not_json_is_400(client, admin, error_of, scheduler):
    r = client.post(
        "/v1/instances",
        content=b"{name: web",
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    error_of(r, 400, "bad_request")
    assert scheduler.casts == []


@pytest.mark.parametrize(
    "ctype", ["text/plain", "application/x-www-form-urlencoded"]
)
def test_body_sent_as_something_other_than_json_is_400(
    client, admin, cloud, error_of, scheduler, ctype
):
    r = client.post(
        "/v1/instances",
        content=f"name=web&flavor=small&image={cloud.image_id}",
        headers={**admin.headers, "Content-Type": ctype},
    )
    error_of(r, 400, "bad_request")
    assert count_instances() == 0 and scheduler.casts == []


@pytest.mark.parametrize("payload", ["[]", '"web"', "null", "42"])
def test_json_that_is_not_an_object_is_refused(
    client, admin, error_of, payload
):
    r = client.post(
        "/v1/instances",
        content=payload.encode(),
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    assert 400 <= r.status_code < 500
    error_of(r, r.status_code)


def test_unknown_field_is_422_naming_it(admin, create, error_of):
    err = error_of(create(admin, colour="blue"), 422, "invalid")
    assert [f["field"] for f in err["details"]["fields"]] == ["colour"]


def test_missing_fields_are_422(client, admin, error_of):
    r = client.post("/v1/instances", json={"name": "x"}, headers=admin.headers)
    err = error_of(r, 422)
    assert {f["field"] for f in err["details"]["fields"]} == {
        "flavor",
        "image",
    }


@pytest.mark.parametrize(
    "field,value",
    [
        ("network", "nw-abcdefgh"),
        ("key_pair", "kp-abcdefgh"),
        ("ip_address", "10.0.0.5"),
        ("volumes", ["vol-abcdefgh"]),
        ("security_groups", ["sg-abcdefgh"]),
    ],
)
def test_features_not_yet_available_are_422_not_ignored(
    admin, create, error_of, field, value
):
    err = error_of(create(admin, **{field: value}), 422)
    assert err["details"]["field"] == field
    assert count_instances() == 0


@pytest.mark.parametrize("user_data", ["x" * 1001, "é" * 501])
def test_user_data_over_the_limit_is_413(
    config, admin, create, error_of, scheduler, user_data
):
    config("max_user_data_bytes", 1000, group="api")
    err = error_of(create(admin, user_data=user_data), 413, "too_large")
    assert err["details"]["limit"] == 1000
    assert count_instances() == 0 and scheduler.casts == []


def test_user_data_within_the_limit_is_kept(config, admin, create):
    config("max_user_data_bytes", 1000, group="api")
    iid = create(admin, user_data="#!/bin/sh\necho hi\n").json()["id"]
    with engine.session() as s:
        assert s.get(models.Instance, iid).user_data == "#!/bin/sh\necho hi\n"


def test_bus_down_fails_the_task_at_once_with_503(
    client, admin, create, error_of, monkeypatch
):
    from arame.api.routers import instances as router

    class DownScheduler:
        def build_instance(self, *a):
            raise ConnectionError("broker unreachable")

    monkeypatch.setattr(router.service, "_scheduler", DownScheduler())
    err = error_of(create(admin), 503, "service_unavailable")
    assert "not started" in err["message"]
    with engine.session() as s:
        inst = s.scalars(sa.select(models.Instance)).one()
        task = s.scalars(sa.select(models.Task)).one()
    assert inst.status == "error"
    assert inst.status_reason == "could not reach the scheduler"
    assert (task.status, task.error_step) == ("failed", "dispatch")


def test_schedulers_too_old_for_the_message_is_a_409_naming_it(
    client, admin, create, error_of, monkeypatch
):
    """A rolling upgrade caps messages at the oldest running scheduler: a
    request that needs a newer one is refused with what to upgrade (a 409:
    retrying will not help), and its task ends at once."""
    from arame.api.routers import instances as router
    from arame.common.rpc.version_cap import VersionCapped

    class OldScheduler:
        def build_instance(self, *a):
            raise VersionCapped("scheduler", "build_instance", "1.7", "1.5")

    monkeypatch.setattr(router.service, "_scheduler", OldScheduler())
    err = error_of(create(admin), 409, "conflict")
    assert "scheduler RPC API 1.7" in err["message"]
    with engine.session() as s:
        inst = s.scalars(sa.select(models.Instance)).one()
        task = s.scalars(sa.select(models.Task)).one()
    assert inst.status == "error"
    assert "too old" in inst.status_reason
    assert (task.status, task.error_step) == ("failed", "dispatch")


# -- roles and accounts --------------------------------------------------------


def test_reader_cannot_create_but_can_list_and_read(
    client, admin, make_user, create, error_of
):
    reader = make_user("reader")
    err = error_of(create(reader), 403, "forbidden")
    assert "instances:create" in err["message"]
    assert count_instances() == 0
    r = client.get("/v1/instances", headers=reader.headers)
    assert r.status_code == 200 and r.json()["items"] == []


def test_reader_sees_the_instances_of_its_account(client, make_user, create):
    owner = make_user("member")
    reader = make_user("reader", account_id=owner.account_id)
    iid = create(owner).json()["id"]
    listed = client.get("/v1/instances", headers=reader.headers).json()
    assert [i["id"] for i in listed["items"]] == [iid]
    assert (
        client.get(f"/v1/instances/{iid}", headers=reader.headers).status_code
        == 200
    )
    r = client.delete(f"/v1/instances/{iid}", headers=reader.headers)
    assert r.status_code == 403


def test_another_accounts_instance_is_404_everywhere(
    client, member, make_user, create, error_of, scheduler
):
    other = make_user("member")
    iid = create(other).json()["id"]
    set_status(iid, "running")
    h = member.headers
    error_of(client.get(f"/v1/instances/{iid}", headers=h), 404, "not_found")
    error_of(client.delete(f"/v1/instances/{iid}", headers=h), 404)
    error_of(
        client.post(
            f"/v1/instances/{iid}/actions", json={"action": "stop"}, headers=h
        ),
        404,
    )
    error_of(client.get(f"/v1/instances/{iid}/console", headers=h), 404)
    assert scheduler.methods() == ["build_instance"]
    with engine.session() as s:
        assert s.get(models.Instance, iid).status == "running"
    assert client.get("/v1/instances", headers=h).json()["items"] == []


def test_a_missing_and_a_foreign_instance_answer_alike(
    client, member, make_user, create
):
    other = make_user("member")
    iid = create(other).json()["id"]
    foreign = client.get(f"/v1/instances/{iid}", headers=member.headers)
    missing = client.get("/v1/instances/i-zzzzzzzz", headers=member.headers)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"]["message"].replace(
        iid, "X"
    ) == missing.json()["error"]["message"].replace("i-zzzzzzzz", "X")


@pytest.mark.parametrize(
    "bad", ["..%2F..%2Fetc", "i-ABC", "x" * 40, "i-abcd1234%0A"]
)
def test_malformed_instance_id_is_404(client, admin, error_of, bad):
    error_of(client.get(f"/v1/instances/{bad}", headers=admin.headers), 404)


def test_admin_sees_every_account_members_only_their_own(
    client, admin, member, make_user, create
):
    other = make_user("member")
    mine = create(member, name="m1").json()["id"]
    theirs = create(other, name="o1").json()["id"]
    own = create(admin, name="a1").json()["id"]

    def listed(caller, query=""):
        r = client.get(f"/v1/instances{query}", headers=caller.headers)
        assert r.status_code == 200, r.text
        return {i["id"] for i in r.json()["items"]}

    assert listed(admin) == {mine, theirs, own}
    assert listed(member) == {mine}
    assert listed(other) == {theirs}
    assert listed(admin, f"?account_id={member.account_id}") == {mine}
    assert (
        client.get(
            f"/v1/instances/{theirs}", headers=admin.headers
        ).status_code
        == 200
    )


def test_member_cannot_list_another_account(
    client, member, make_user, create, error_of
):
    other = make_user("member")
    create(other)
    r = client.get(
        f"/v1/instances?account_id={other.account_id}", headers=member.headers
    )
    error_of(r, 403)


# -- lists -----------------------------------------------------------------------


def test_terminated_instances_drop_out_of_the_list(client, admin, create):
    live = create(admin, name="live").json()["id"]
    gone = create(admin, name="gone").json()["id"]
    set_status(gone, "terminated")

    def ids_of(query=""):
        r = client.get(f"/v1/instances{query}", headers=admin.headers)
        return [i["id"] for i in r.json()["items"]]

    assert ids_of() == [live]
    assert ids_of("?status=terminated") == [gone]
    # It stays readable.
    got = client.get(f"/v1/instances/{gone}", headers=admin.headers)
    assert got.status_code == 200 and got.json()["status"] == "terminated"


def test_list_filters_by_status(client, admin, create):
    a = create(admin, name="a").json()["id"]
    create(admin, name="b")
    set_status(a, "running")
    r = client.get("/v1/instances?status=running", headers=admin.headers)
    assert [i["id"] for i in r.json()["items"]] == [a]


def test_list_pages_with_limit_and_marker(client, admin, create):
    made = [create(admin, name=f"web-{n}").json()["id"] for n in range(5)]
    seen, marker, pages = [], None, 0
    while True:
        q = "?limit=2" + (f"&marker={marker}" if marker else "")
        body = client.get(f"/v1/instances{q}", headers=admin.headers).json()
        assert len(body["items"]) <= 2
        seen += [i["id"] for i in body["items"]]
        pages += 1
        marker = body["next_marker"]
        if marker is None:
            break
    assert seen == made  # oldest first, nothing twice
    assert pages == 3


def test_exact_page_has_no_next_marker(client, admin, create):
    for n in range(2):
        create(admin, name=f"w{n}")
    body = client.get("/v1/instances?limit=2", headers=admin.headers).json()
    assert len(body["items"]) == 2 and body["next_marker"] is None


def test_unknown_marker_is_400(client, admin, error_of):
    error_of(
        client.get("/v1/instances?marker=i-zzzzzzzz", headers=admin.headers),
        400,
    )


@pytest.mark.parametrize("limit", ["0", "-1", "1001", "abc"])
def test_bad_limit_is_422(client, admin, error_of, limit):
    error_of(
        client.get(f"/v1/instances?limit={limit}", headers=admin.headers), 422
    )


def test_name_filter_with_wildcard(client, admin, create):
    web = [create(admin, name=n).json()["id"] for n in ("web-1", "web-2")]
    create(admin, name="db-1")
    create(admin, name="webby")  # matches web* too
    r = client.get("/v1/instances?name=web*", headers=admin.headers).json()
    assert {i["name"] for i in r["items"]} == {"web-1", "web-2", "webby"}
    r = client.get("/v1/instances?name=web-?", headers=admin.headers).json()
    assert [i["id"] for i in r["items"]] == web
    r = client.get("/v1/instances?name=db-1", headers=admin.headers).json()
    assert [i["name"] for i in r["items"]] == ["db-1"]


def test_name_filter_treats_like_characters_literally(client, admin, create):
    create(admin, name="web_1")
    create(admin, name="webx1")
    r = client.get("/v1/instances?name=web_*", headers=admin.headers).json()
    assert [i["name"] for i in r["items"]] == ["web_1"]


# -- actions and delete ------------------------------------------------------------


@pytest.mark.parametrize(
    "action,src,busy",
    [
        ("stop", "running", "stopping"),
        ("start", "stopped", "starting"),
        ("reboot", "running", "rebooting"),
    ],
)
def test_action_in_the_right_state_is_accepted(
    client, admin, create, scheduler, action, src, busy
):
    iid = create(admin).json()["id"]
    set_status(iid, src)
    r = client.post(
        f"/v1/instances/{iid}/actions",
        json={"action": action},
        headers=admin.headers,
    )
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["id"], body["status"]) == (iid, busy)
    assert ids.is_valid("task", body["task_id"])
    assert scheduler.casts[-1] == (
        "instance_action",
        body["task_id"],
        iid,
        action,
    )
    got = client.get(f"/v1/instances/{iid}", headers=admin.headers).json()
    assert got["status"] == busy


@pytest.mark.parametrize(
    "action,state",
    [
        ("start", "running"),
        ("start", "pending"),
        ("stop", "stopped"),
        ("stop", "starting"),
        ("reboot", "stopped"),
        ("reboot", "error"),
        ("stop", "terminated"),
        ("start", "shuttingdown"),
    ],
)
def test_action_in_the_wrong_state_is_409(
    client, admin, create, scheduler, error_of, action, state
):
    iid = create(admin).json()["id"]
    set_status(iid, state)
    r = client.post(
        f"/v1/instances/{iid}/actions",
        json={"action": action},
        headers=admin.headers,
    )
    err = error_of(r, 409, "conflict")
    assert state in err["message"]
    assert err["details"]["status"] == state
    assert scheduler.methods() == ["build_instance"]
    with engine.session() as s:
        assert s.get(models.Instance, iid).status == state


@pytest.mark.parametrize(
    "body", [{"action": "hibernate"}, {}, {"action": "stop", "force": True}]
)
def test_invalid_action_body_is_422(client, admin, create, error_of, body):
    iid = create(admin).json()["id"]
    set_status(iid, "running")
    error_of(
        client.post(
            f"/v1/instances/{iid}/actions", json=body, headers=admin.headers
        ),
        422,
    )


@pytest.mark.parametrize(
    "state",
    ["error", "running", "pending", "stopped", "starting", "shuttingdown"],
)
def test_delete_is_accepted_in_every_live_state(
    client, admin, create, scheduler, state
):
    iid = create(admin).json()["id"]
    set_status(iid, state)
    r = client.delete(f"/v1/instances/{iid}", headers=admin.headers)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "shuttingdown"
    assert scheduler.casts[-1][:3] == ("delete_instance", body["task_id"], iid)
    # Created and deleted, the scheduler is told the instance's provider.
    assert scheduler.providers[-2:] == ["vm", "vm"]
    with engine.session() as s:
        assert s.get(models.Instance, iid).status == "shuttingdown"
        assert s.get(models.Task, body["task_id"]).action == "delete"


def test_delete_of_a_terminated_instance_is_409(
    client, admin, create, error_of
):
    iid = create(admin).json()["id"]
    set_status(iid, "terminated")
    error_of(client.delete(f"/v1/instances/{iid}", headers=admin.headers), 409)


def test_delete_clears_the_error_reason(client, admin, create):
    iid = create(admin).json()["id"]
    with engine.session() as s:
        s.get(models.Instance, iid).status = "error"
        s.get(models.Instance, iid).status_reason = "create failed at spawn"
    body = client.delete(f"/v1/instances/{iid}", headers=admin.headers).json()
    assert body["status_reason"] is None


# -- console ---------------------------------------------------------------------


class ConsoleHVA:
    def __init__(self, fail=None):
        self.fail = fail
        self.asked = []

    def get_console_output(self, ctxt, host, instance_id, timeout):
        self.asked.append((host, instance_id))
        if self.fail:
            raise self.fail
        return {"output": "[fake] booted\n", "truncated": False}


def placed(iid):
    with engine.session() as s:
        inst = s.get(models.Instance, iid)
        inst.status, inst.host, inst.claimed = "running", "hv1", True


def test_console_asks_the_instances_agent(client, admin, create, monkeypatch):
    from arame.api.routers import instances as router

    hva = ConsoleHVA()
    monkeypatch.setattr(router.service, "_hva", hva)
    iid = create(admin).json()["id"]
    placed(iid)
    r = client.get(f"/v1/instances/{iid}/console", headers=admin.headers)
    assert r.status_code == 200
    assert r.json() == {"output": "[fake] booted\n", "truncated": False}
    assert hva.asked == [("hv1", iid)]


def test_console_of_an_unplaced_instance_is_409(
    client, admin, create, error_of, monkeypatch
):
    from arame.api.routers import instances as router

    monkeypatch.setattr(router.service, "_hva", ConsoleHVA())
    iid = create(admin).json()["id"]
    error_of(
        client.get(f"/v1/instances/{iid}/console", headers=admin.headers), 409
    )


def test_console_when_the_agent_is_silent_is_503(
    client, admin, create, error_of, monkeypatch
):
    import oslo_messaging as messaging

    from arame.api.routers import instances as router

    monkeypatch.setattr(
        router.service, "_hva", ConsoleHVA(messaging.MessagingTimeout("late"))
    )
    iid = create(admin).json()["id"]
    placed(iid)
    err = error_of(
        client.get(f"/v1/instances/{iid}/console", headers=admin.headers), 503
    )
    assert "hv1" in err["message"]


def test_reader_may_not_read_the_console(client, make_user, create, error_of):
    owner = make_user("member")
    reader = make_user("reader", account_id=owner.account_id)
    iid = create(owner).json()["id"]
    error_of(
        client.get(f"/v1/instances/{iid}/console", headers=reader.headers), 403
    )


def test_openapi_document_is_served(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    assert "/v1/instances" in json.loads(r.text)["paths"]
