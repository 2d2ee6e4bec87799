"""What an rpcapi proxy sends, recorded instead of sent: the version each
call was prepared at, the method and its arguments. The `recorded`
fixture puts a Recorder behind every rpc.get_client of the test."""

from collections.abc import Iterator
from typing import Any

import pytest

from arame.common import rpc
from arame.common.rpc import version_cap


class Recorder:
    def __init__(self, topic: str, version_cap: str | None = None) -> None:
        self.version_cap = version_cap
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def prepare(self, version: str = "1.0", **kw: Any) -> "Recorder":
        self._version = version
        return self

    def call(self, ctxt: Any, method: str, **kw: Any) -> dict:
        self.sent.append((self._version, method, kw))
        return {}


@pytest.fixture
def recorded(
    parsed_conf: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[Recorder]]:
    version_cap.reset()
    made: list[Recorder] = []

    def get_client(topic: str, version_cap: str | None = None) -> Recorder:
        made.append(Recorder(topic, version_cap))
        return made[-1]

    monkeypatch.setattr(rpc, "get_client", get_client)
    yield made
    version_cap.reset()
