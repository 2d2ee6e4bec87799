"""Run the real cliff app against a stand-in API, with isolated config and env.

The stand-in mirrors tests/unit/sdk/conftest.py; it is repeated rather than
imported because the two test packages must each run on their own.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from arame.cli.app import ArameApp
from arame.sdk import Client


class FakeAPI:
    """Answers by (method, path); answers given in sequence are used in turn,
    the last one repeating. Every request is kept for assertions."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Any]] = {}
        self.requests: list[httpx.Request] = []

    def add(self, method: str, path: str, *answers: Any) -> None:
        self.routes[(method, path)] = list(answers)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answers = self.routes.get((request.method, request.url.path))
        if not answers:
            return httpx.Response(404, json=error("not_found", "no such route"))
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if callable(answer):
            return answer(request)
        status, body = answer
        return httpx.Response(status, json=body)

    def bodies(self, method: str, path: str) -> list[Any]:
        return [
            json.loads(r.content)
            for r in self.requests
            if r.method == method and r.url.path == path
        ]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def error(code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


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
        client = Client(url, token=token, transport=httpx.MockTransport(api.handle))
        clock = FakeClock()
        client.tasks.clock, client.tasks.sleep = clock.monotonic, clock.sleep
        return client

    def run(*argv: str) -> Result:
        stdout, stderr = io.StringIO(), io.StringIO()
        app = ArameApp(stdout=stdout, stderr=stderr, client_factory=make_client)
        code = app.run(list(argv))
        return Result(code, stdout.getvalue(), stderr.getvalue())

    return run
