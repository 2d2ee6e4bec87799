"""Run the real cliff app against the stand-in API (tests.helpers.fakes),
with isolated config and env."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from typing import Any

import pytest

from arame.cli.app import ArameApp
from arame.sdk import Client
from tests.helpers.clocks import FakeClock
from tests.helpers.fakes import FakeAPI


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Never read or write the developer's own credentials or settings."""
    monkeypatch.setenv("ARAME_CONFIG_DIR", str(tmp_path / "config"))
    for name in ("ARAME_URL", "ARAME_TOKEN", "ARAME_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    # cliff adds a root log handler per run; drop them so runs stay apart.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield tmp_path / "config"
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def api() -> FakeAPI:
    return FakeAPI()


@pytest.fixture
def run(api):
    """``run("instance", "list", "-f", "json")`` -> Result(code, stdout, stderr)."""

    def make_client(url: str, token: str | None) -> Client:
        client = Client(url, token=token, transport=api.transport)
        clock = FakeClock()
        client.tasks.clock, client.tasks.sleep = clock.monotonic, clock.sleep
        return client

    def run(*argv: str) -> Result:
        stdout, stderr = io.StringIO(), io.StringIO()
        app = ArameApp(
            stdout=stdout, stderr=stderr, client_factory=make_client
        )
        code = app.run(list(argv))
        return Result(code, stdout.getvalue(), stderr.getvalue())

    return run
