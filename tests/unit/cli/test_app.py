import io

import httpx

from arame.cli import credentials
from arame.cli.app import ArameApp
from arame.cli.registry import COMMANDS, entry_points
from arame.sdk import Client

EMPTY = (200, {"items": [], "next_marker": None})


def test_help_lists_every_command(run):
    result = run("help")

    assert result.code == 0
    for name in COMMANDS:
        assert name in result.stdout


def test_url_and_token_come_from_options(run, api):
    api.add("GET", "/v1/flavors", EMPTY)

    assert (
        run(
            "--url", "http://opt:1234", "--token", "tok-opt", "flavor", "list"
        ).code
        == 0
    )

    request = api.requests[0]
    assert (request.url.host, request.url.port) == ("opt", 1234)
    assert request.headers["Authorization"] == "Bearer tok-opt"


def test_url_and_token_come_from_the_environment(run, api, monkeypatch):
    monkeypatch.setenv("ARAME_URL", "http://env:4321")
    monkeypatch.setenv("ARAME_TOKEN", "tok-env")
    api.add("GET", "/v1/flavors", EMPTY)

    run("flavor", "list")

    assert api.requests[0].url.host == "env"
    assert api.requests[0].headers["Authorization"] == "Bearer tok-env"


def test_stored_login_is_used_by_default(run, api):
    credentials.save(
        {
            "url": "http://stored:9001",
            "token": "tok-stored",
            "expires_at": None,
        }
    )
    api.add("GET", "/v1/flavors", EMPTY)

    run("flavor", "list")

    assert api.requests[0].url.host == "stored"
    assert api.requests[0].headers["Authorization"] == "Bearer tok-stored"


def test_default_url_is_local(run, api):
    api.add("GET", "/v1/flavors", EMPTY)

    run("flavor", "list")

    assert str(api.requests[0].url) == "http://127.0.0.1:9001/v1/flavors"
    assert "Authorization" not in api.requests[0].headers


def test_unreachable_api_is_one_clear_line_without_traceback():
    def refuse(request):
        raise httpx.ConnectError("Connection refused", request=request)

    err = io.StringIO()
    app = ArameApp(
        stdout=io.StringIO(),
        stderr=err,
        client_factory=lambda url, token: Client(
            url, token, transport=httpx.MockTransport(refuse)
        ),
    )

    assert app.run(["--url", "http://nowhere:9001", "host", "list"]) == 1
    first_line = err.getvalue().splitlines()[0]
    assert (
        first_line
        == "Error: cannot reach http://nowhere:9001: Connection refused"
    )
    assert "Traceback" not in err.getvalue()


def test_entry_points_match_the_table():
    lines = entry_points()
    assert (
        "instance_create = arame.cli.commands.instance:CreateInstance" in lines
    )
    assert len(lines) == len(COMMANDS)
