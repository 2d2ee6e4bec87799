"""The notebook SDK against FakeCloud, on a clock that costs no time, with
no login of the user's leaking in (ARAME_* and the credentials file)."""

from __future__ import annotations

import pytest

from arame.sdk import ArameSDK
from arame.sdk.notebook import frames
from tests.helpers.clocks import FakeClock

from .fake_cloud import GOOD_TOKEN, FakeCloud

ENDPOINT = "http://arame.test:9001"


@pytest.fixture(autouse=True)
def no_login(monkeypatch, tmp_path):
    for name in ("ARAME_URL", "ARAME_TOKEN", "ARAME_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ARAME_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setattr(frames, "use_pandas", True)


@pytest.fixture
def cloud() -> FakeCloud:
    return FakeCloud()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_sdk(cloud, clock):
    made = []

    def _make(**kw) -> ArameSDK:
        kw.setdefault("token", GOOD_TOKEN)
        kw.setdefault("endpoint", ENDPOINT)
        kw.setdefault("progress", False)
        sdk = ArameSDK(transport=cloud.transport, **kw)
        sdk.poller.clock = clock.monotonic
        sdk.poller.sleep = clock.sleep
        made.append(sdk)
        return sdk

    yield _make
    for sdk in made:
        sdk.close()


@pytest.fixture
def sdk(make_sdk) -> ArameSDK:
    return make_sdk()


@pytest.fixture
def spec(sdk):
    s = sdk.get_spec("vm", "small")
    s.image = "arame-test"
    return s
