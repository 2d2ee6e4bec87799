"""A stand-in for the Arame API behind httpx.MockTransport, for the SDK
and CLI unit tests."""

from __future__ import annotations

import json
from typing import Any

import httpx


def error(code: str, message: str, details: dict | None = None) -> dict:
    """The API's error envelope."""
    return {
        "error": {"code": code, "message": message, "details": details or {}}
    }


class FakeAPI:
    """Answers by (method, path): `(status, body)`, an httpx.Response, or a
    callable taking the request. Answers given in sequence are used in
    turn, the last one repeating. Every request is kept for assertions."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Any]] = {}
        self.requests: list[httpx.Request] = []

    def add(self, method: str, path: str, *answers: Any) -> None:
        self.routes[(method, path)] = list(answers)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answers = self.routes.get((request.method, request.url.path))
        if not answers:
            return httpx.Response(
                404, json=error("not_found", "no such route")
            )
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
