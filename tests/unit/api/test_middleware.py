"""Request ids and the body size limit."""

import json


def test_every_answer_carries_a_request_id(client):
    r = client.get("/healthz")
    assert r.headers["x-request-id"].startswith("req-")
    assert (
        client.get("/healthz").headers["x-request-id"]
        != r.headers["x-request-id"]
    )


def test_callers_request_id_is_kept(client):
    r = client.get("/healthz", headers={"X-Request-Id": "req-abc-123"})
    assert r.headers["x-request-id"] == "req-abc-123"


def test_foreign_request_id_is_replaced(client):
    r = client.get("/healthz", headers={"X-Request-Id": "evil; rm -rf"})
    assert r.headers["x-request-id"].startswith("req-")
    assert "evil" not in r.headers["x-request-id"]


def test_overlong_request_id_is_cut(client):
    r = client.get("/healthz", headers={"X-Request-Id": "req-" + "x" * 500})
    assert len(r.headers["x-request-id"]) == 64


def test_request_id_reaches_the_task(client, admin, create):
    from arame.common.db import engine, models

    r = create(admin, headers={"X-Request-Id": "req-trace-me"})
    with engine.session() as s:
        assert (
            s.get(models.Task, r.json()["task_id"]).request_id
            == "req-trace-me"
        )


def big_body(cloud, size):
    return json.dumps(
        {
            "name": "web",
            "flavor": "small",
            "image": cloud.image_id,
            "user_data": "x" * size,
        }
    ).encode()


def test_body_over_the_limit_is_413(
    config, make_client, admin, cloud, error_of, scheduler
):
    config("max_request_body_bytes", 2048, group="api")
    c = make_client()
    r = c.post(
        "/v1/instances",
        content=big_body(cloud, 4000),
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    err = error_of(r, 413, "too_large")
    assert err["details"] == {"limit": 2048}
    assert scheduler.casts == []


def test_body_under_the_limit_passes(config, make_client, admin, cloud):
    config("max_request_body_bytes", 2048, group="api")
    c = make_client()
    r = c.post(
        "/v1/instances",
        content=big_body(cloud, 1000),
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 202


def test_chunked_body_over_the_limit_is_413(
    config, make_client, admin, cloud, error_of, scheduler
):
    config("max_request_body_bytes", 2048, group="api")
    c = make_client()
    body = big_body(cloud, 4000)

    def chunks():
        for i in range(0, len(body), 512):
            yield body[i : i + 512]

    r = c.post(
        "/v1/instances",
        content=chunks(),
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    assert r.request.headers.get("transfer-encoding") == "chunked"
    error_of(r, 413, "too_large")
    assert scheduler.casts == []
