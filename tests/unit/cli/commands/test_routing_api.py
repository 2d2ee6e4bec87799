"""arame router / floating-ip / network create --external against the real
API in process (a seeded SQLite cloud; the scheduler's casts recorded, no
flow runs, so no --wait here): the CLI's options reach the server as it
expects them."""

import io

import pytest

from arame.cli.app import ArameApp
from arame.sdk import Client
from tests.unit.api.conftest import (  # noqa: F401
    admin,
    client,
    create,
    fast_hashes,
    make_client,
    make_user,
    member,
    scheduler,
)
from tests.unit.api.routers.routing_fixtures import l3_scheduler  # noqa: F401
from tests.unit.cli.conftest import Result


@pytest.fixture
def cli(client):  # noqa: F811
    """cli(caller, *argv) -> Result, the command run as that caller."""

    def run(caller, *argv):
        token = caller.headers["Authorization"].split()[1]

        def make(url, _token):
            # TestClient is an httpx client: its transport runs the app.
            return Client(url, token=token, transport=client._transport)

        stdout, stderr = io.StringIO(), io.StringIO()
        app = ArameApp(stdout=stdout, stderr=stderr, client_factory=make)
        code = app.run(["--url", str(client.base_url), *argv])
        return Result(code, stdout.getvalue(), stderr.getvalue())

    return run


def test_the_whole_path_from_the_command_line(
    cli,
    admin,  # noqa: F811
    member,  # noqa: F811
    create,  # noqa: F811
    l3_scheduler,  # noqa: F811
):
    ext = cli(
        admin,
        *("network", "create", "public", "--external"),
        *("--physical-network", "public", "--segmentation", "flat"),
        *("--cidr", "203.0.113.0/24", "--gateway", "203.0.113.1"),
        *("--dhcp-range", "203.0.113.100-203.0.113.199"),
        *("--dns-domain", "public.example", "-f", "json"),
    )
    assert ext.code == 0, ext.stderr
    assert ext.json()["external"] is True
    for name, cidr in (("lab", "10.30.0.0/24"), ("db", "10.31.0.0/24")):
        made = cli(
            member,
            *("network", "create", name, "--cidr", cidr),
            *("--dns-domain", "t.lab"),
        )
        assert made.code == 0, made.stderr
    listed = cli(member, "network", "list", "-f", "json").json()
    external = {n["name"]: n["external"] for n in listed}
    assert (external["public"], external["lab"]) == (True, False)

    router = cli(
        member,
        *("router", "create", "edge", "--external-network", "public"),
        *("--network", "lab", "-f", "json"),
    )
    assert router.code == 0, router.stderr
    assert router.json()["status"] == "building"
    added = cli(member, "router", "add-network", "edge", "db", "-f", "json")
    assert added.code == 0, added.stderr
    assert len(added.json()["networks"]) == 2
    shown = cli(member, "router", "show", "edge", "-c", "networks")
    assert "10.31.0.1 on nw-" in shown.stdout

    lab = next(n for n in listed if n["name"] == "lab")
    assert create(member, name="web", network=lab["id"]).status_code == 202
    fip = cli(
        member,
        *("floating-ip", "create", "public", "--address", "203.0.113.120"),
    )
    assert fip.code == 0, fip.stderr
    associated = cli(
        member,
        "floating-ip",
        "associate",
        "203.0.113.120",
        "web",
        "-f",
        "json",
    )
    assert associated.code == 0, associated.stderr
    assert associated.json()["task_id"]
    rows = cli(
        member, "floating-ip", "list", "--instance", "web", "-f", "json"
    )
    assert [r["address"] for r in rows.json()] == ["203.0.113.120"]

    refused = cli(member, "router", "delete", "edge")
    assert refused.code == 1
    assert "409" in refused.stderr

    released = cli(member, "floating-ip", "delete", "203.0.113.120")
    assert released.code == 0, released.stderr
    assert "task_id" in released.stdout  # it was associated: a task
    gone = cli(member, "router", "delete", "edge", "-f", "json")
    assert gone.code == 0, gone.stderr
    assert gone.json()["action"] == "delete"
    assert [c[0] for c in l3_scheduler.casts][-1] == "delete_router"
