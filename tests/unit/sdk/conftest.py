"""A stand-in API behind httpx.MockTransport, and a clock that costs no time."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from arame.sdk import Client

ENDPOINT = "http://arame.test:9001"

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
        if isinstance(answer, httpx.Response):
            return answer
        status, body = answer
        return httpx.Response(status, json=body)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def bodies(self, method: str, path: str) -> list[Any]:
        return [
            json.loads(r.content)
            for r in self.requests
            if r.method == method and r.url.path == path
        ]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def error(code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


@pytest.fixture
def api() -> FakeAPI:
    return FakeAPI()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(api: FakeAPI, clock: FakeClock) -> Client:
    c = Client(ENDPOINT, token="tok-1", transport=api.transport)
    c.tasks.clock = clock.monotonic
    c.tasks.sleep = clock.sleep
    yield c
    c.close()
