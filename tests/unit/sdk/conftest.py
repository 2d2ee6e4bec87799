"""The SDK against a stand-in API (tests.helpers.fakes), on a clock that
costs no time."""

from __future__ import annotations

import pytest

from arame.sdk import Client
from tests.helpers.clocks import FakeClock
from tests.helpers.fakes import FakeAPI

ENDPOINT = "http://arame.test:9001"


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
