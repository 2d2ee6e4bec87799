"""/v1/security_groups: rules in either form, checked with the place of the
mistake; a change of rules is a task for the hosts; a group in use stays."""

import pytest
import sqlalchemy as sa

from arame.api.routers import security_groups as sg_router
from arame.common import ids
from arame.common.db import engine, models
from tests.unit.api.conftest import assert_error

TEXT = (
    "# web servers\n"
    "tcp:22,22,ip4:10.0.0.0/8   # ssh from the office\n"
    "tcp:80,80,ip4:0.0.0.0\n"
    "icmp:8,-1,ip4:0.0.0.0/0\n"
)
RULES = [
    {"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr": "10.0.0.0/8"},
    {"protocol": "tcp", "from_port": 80, "to_port": 80, "cidr": "0.0.0.0/0"},
    {"protocol": "icmp", "from_port": 8, "to_port": -1, "cidr": "0.0.0.0/0"},
]


class RecordingScheduler:
    def __init__(self):
        self.casts = []
        self.fail = False

    def refresh_security_group(self, ctxt, task_id, group_id):
        if self.fail:
            raise OSError("broker down")
        self.casts.append(("refresh_security_group", task_id, group_id))


@pytest.fixture
def sg_scheduler(monkeypatch):
    rec = RecordingScheduler()
    monkeypatch.setattr(sg_router.service, "_scheduler", rec)
    return rec


@pytest.fixture
def post(client):
    def post(caller, **body):
        body.setdefault("name", "web")
        return client.post(
            "/v1/security_groups", headers=caller.headers, json=body
        )

    return post


def rules_out(rules):
    """The answer lists both source keys, the one not used as null."""
    return [{"cidr": None, "group_id": None, **r} for r in rules]


def test_text_rules_are_parsed_and_kept_as_written(client, member, post):
    r = post(member, rules_text=TEXT, description="front")
    assert r.status_code == 201, r.text
    g = r.json()
    assert ids.is_valid("security_group", g["id"])
    assert (g["name"], g["description"], g["account_id"]) == (
        "web",
        "front",
        member.account_id,
    )
    assert g["rules_text"] == TEXT
    assert g["rules"] == rules_out(RULES)
    assert (
        client.get(
            f"/v1/security_groups/{g['id']}", headers=member.headers
        ).json()
        == g
    )


def test_json_rules_get_their_canonical_text(post, member):
    g = post(member, rules=RULES).json()
    assert g["rules_text"] == (
        "tcp:22,22,ip4:10.0.0.0/8\n"
        "tcp:80,80,ip4:0.0.0.0/0\n"
        "icmp:8,-1,ip4:0.0.0.0/0\n"
    )
    assert g["rules"] == rules_out(RULES)


def test_no_rules_is_an_empty_group(post, member):
    g = post(member).json()
    assert (g["rules_text"], g["rules"], g["description"]) == ("", [], "")


def test_text_mistakes_point_at_line_and_column(post, member):
    err = assert_error(
        post(
            member,
            rules_text="tcp:22,22,ip4:0.0.0.0/0\ntcp:22,99999,ip4:0.0.0.0/0\n",
        ),
        422,
        "invalid",
    )
    assert err["details"]["field"] == "rules_text"
    assert (err["details"]["line"], err["details"]["column"]) == (2, 8)
    assert "line 2, column 8" in err["message"]


def test_json_mistakes_name_the_rule_and_field(post, member):
    bad = [
        RULES[0],
        {
            "protocol": "icmp",
            "from_port": 300,
            "to_port": -1,
            "cidr": "0.0.0.0/0",
        },
    ]
    err = assert_error(post(member, rules=bad), 422, "invalid")
    assert err["details"] == {"field": "rules.1.from_port", "index": 2}
    assert "rule 2, from_port: icmp type 300" in err["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"rules_text": "tcp:22,22,ip4:0.0.0.0/0", "rules": RULES},
        {"rules": [{**RULES[0], "colour": "red"}]},
        {"rules": [{**RULES[0], "from_port": "22"}]},
        {"rules": [{**RULES[0], "protocol": "sctp"}]},
        {"colour": "red"},
        {"name": "a b"},
    ],
)
def test_malformed_bodies_are_422(post, member, body):
    assert_error(post(member, **body), 422, "invalid")


def test_group_sources_must_be_groups_of_the_account(post, member, make_user):
    db = post(member, name="db").json()
    theirs = post(make_user("member"), name="x").json()
    ok = post(member, name="app", rules_text=f"tcp:3306,3306,{db['id']}\n")
    assert ok.status_code == 201, ok.text
    assert ok.json()["rules"][0]["group_id"] == db["id"]
    for gid in (theirs["id"], "sg-00000000"):
        err = assert_error(
            post(
                member,
                name="app2",
                rules=[
                    {
                        "protocol": "tcp",
                        "from_port": 1,
                        "to_port": 2,
                        "group_id": gid,
                    }
                ],
            ),
            422,
        )
        assert err["details"] == {"field": "rules", "group_id": gid}


def test_default_group_appears_once_on_first_look(client, member):
    for _ in range(2):
        items = client.get(
            "/v1/security_groups", headers=member.headers
        ).json()["items"]
        assert [(g["name"], g["rules"]) for g in items] == [("default", [])]


def test_names_are_unique_per_account(client, post, member, make_user):
    assert post(member).status_code == 201
    assert_error(post(member), 409, "conflict")
    client.get("/v1/security_groups", headers=member.headers)
    assert_error(post(member, name="default"), 409)  # made on first look
    assert post(make_user("member")).status_code == 201


def test_update_stores_rules_and_starts_a_refresh_task(
    client, member, post, sg_scheduler
):
    g = post(member, rules_text=TEXT).json()
    r = client.patch(
        f"/v1/security_groups/{g['id']}",
        headers=member.headers,
        json={
            "rules_text": "udp:53,53,ip4:10.0.0.0/8\n",
            "description": "dns",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rules"] == rules_out(
        [
            {
                "protocol": "udp",
                "from_port": 53,
                "to_port": 53,
                "cidr": "10.0.0.0/8",
            }
        ]
    )
    assert body["description"] == "dns" and body["name"] == "web"
    assert sg_scheduler.casts == [
        ("refresh_security_group", body["task_id"], g["id"])
    ]
    task = client.get(
        f"/v1/tasks/{body['task_id']}", headers=member.headers
    ).json()
    assert (
        task["status"],
        task["resource_id"],
        task["resource_type"],
        task["action"],
    ) == ("queued", g["id"], "security_group", "update")
    got = client.get(
        f"/v1/security_groups/{g['id']}", headers=member.headers
    ).json()
    assert got["rules_text"] == "udp:53,53,ip4:10.0.0.0/8\n"


def test_a_change_of_the_rules_moves_the_group_s_revision(
    client, member, post, sg_scheduler
):
    # What a host compares to keep the newest rules it was given.
    from arame.common.db import engine, models

    g = post(member, rules_text=TEXT).json()

    def revision():
        with engine.session() as s:
            return s.get(models.SecurityGroup, g["id"]).revision

    assert revision() == 0
    url = f"/v1/security_groups/{g['id']}"
    for text, want in (("tcp:22,22,ip4:0.0.0.0/0\n", 1), (None, 1)):
        body = {"description": "d"} if text is None else {"rules_text": text}
        r = client.patch(url, headers=member.headers, json=body)
        assert r.status_code == 200, r.text
        assert revision() == want  # a description alone leaves it


def test_update_checks_like_create(client, member, post, sg_scheduler):
    g = post(member).json()
    post(member, name="other")
    url = f"/v1/security_groups/{g['id']}"
    err = assert_error(
        client.patch(
            url, headers=member.headers, json={"rules_text": "tcp:1,2\n"}
        ),
        422,
    )
    assert err["details"]["line"] == 1
    assert_error(client.patch(url, headers=member.headers, json={}), 422)
    assert_error(
        client.patch(url, headers=member.headers, json={"name": "other"}), 409
    )
    # A group may name itself as a source (its members reach each other).
    r = client.patch(
        url,
        headers=member.headers,
        json={
            "rules": [
                {
                    "protocol": "tcp",
                    "from_port": 5,
                    "to_port": 5,
                    "group_id": g["id"],
                }
            ]
        },
    )
    assert r.status_code == 200, r.text
    assert len(sg_scheduler.casts) == 1


def test_default_group_keeps_its_name_and_stays(client, member, sg_scheduler):
    default = client.get("/v1/security_groups", headers=member.headers).json()[
        "items"
    ][0]
    url = f"/v1/security_groups/{default['id']}"
    assert_error(
        client.patch(url, headers=member.headers, json={"name": "renamed"}),
        409,
    )
    assert_error(client.delete(url, headers=member.headers), 409)
    # Its rules may change.
    assert (
        client.patch(
            url,
            headers=member.headers,
            json={"rules_text": "tcp:22,22,ip4:0.0.0.0/0"},
        ).status_code
        == 200
    )


def test_update_with_the_bus_down_is_503_and_fails_the_task(
    client, member, post, sg_scheduler
):
    sg_scheduler.fail = True
    g = post(member).json()
    assert_error(
        client.patch(
            f"/v1/security_groups/{g['id']}",
            headers=member.headers,
            json={"rules_text": "tcp:22,22,ip4:0.0.0.0/0"},
        ),
        503,
    )
    with engine.session() as s:
        task = s.scalar(
            sa.select(models.Task).where(models.Task.resource_id == g["id"])
        )
        assert (task.status, task.error_step) == ("failed", "dispatch")


def test_delete_refuses_while_in_use(client, member, post, create):
    used = post(member, name="used").json()
    ref = post(member, name="ref").json()
    post(member, name="refers", rules_text=f"tcp:1,1,{ref['id']}")
    inst = create(member, security_groups=[used["id"]]).json()
    err = assert_error(
        client.delete(
            f"/v1/security_groups/{used['id']}", headers=member.headers
        ),
        409,
    )
    assert inst["id"] in err["message"]
    err = assert_error(
        client.delete(
            f"/v1/security_groups/{ref['id']}", headers=member.headers
        ),
        409,
    )
    assert "refers" not in err["message"]  # names the referring group's id
    assert err["details"]["security_groups"]
    # A terminated member holds nothing.
    with engine.session() as s:
        s.execute(
            sa.update(models.Instance)
            .where(models.Instance.id == inst["id"])
            .values(status="terminated")
        )
    assert (
        client.delete(
            f"/v1/security_groups/{used['id']}", headers=member.headers
        ).status_code
        == 204
    )
    assert_error(
        client.get(
            f"/v1/security_groups/{used['id']}", headers=member.headers
        ),
        404,
    )
    got = client.get(f"/v1/instances/{inst['id']}", headers=member.headers)
    assert got.json()["security_groups"] == []


def test_accounts_and_roles(
    client, member, post, make_user, admin, sg_scheduler
):
    g = post(member).json()
    other = make_user("member")
    url = f"/v1/security_groups/{g['id']}"
    for call in (
        lambda h: client.get(url, headers=h),
        lambda h: client.patch(url, headers=h, json={"name": "x"}),
        lambda h: client.delete(url, headers=h),
    ):
        assert_error(call(other.headers), 404, "not_found")
    assert [
        x["name"]
        for x in client.get(
            "/v1/security_groups", headers=other.headers
        ).json()["items"]
    ] == ["default"]
    reader = make_user("reader", account_id=member.account_id)
    assert client.get(url, headers=reader.headers).status_code == 200
    assert_error(post(reader, name="r"), 403)
    assert_error(
        client.patch(url, headers=reader.headers, json={"name": "x"}), 403
    )
    assert_error(client.delete(url, headers=reader.headers), 403)
    everything = client.get(
        "/v1/security_groups?name=web", headers=admin.headers
    ).json()["items"]
    assert [x["id"] for x in everything] == [g["id"]]
    assert (
        client.patch(
            url, headers=admin.headers, json={"description": "by admin"}
        ).status_code
        == 200
    )
