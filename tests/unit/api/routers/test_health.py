"""Health, readiness, metrics — no auth — and errors for unknown paths."""


def test_healthz_needs_no_token(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_readyz_checks_the_database_and_the_bus(client):
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "bus": "ok"}


def test_metrics_count_requests(client):
    client.get("/healthz")
    r = client.get("/metrics")
    assert r.status_code == 200
    assert "arame_api_requests_total" in r.text
    assert 'route="/healthz"' in r.text


def test_unknown_path_is_404_in_the_error_shape(client, error_of):
    err = error_of(client.get("/v1/nothing-here"), 404, "not_found")
    assert "/v1/nothing-here" in err["message"]


def test_wrong_method_is_405_in_the_error_shape(client, error_of):
    error_of(client.put("/healthz"), 405, "method_not_allowed")
