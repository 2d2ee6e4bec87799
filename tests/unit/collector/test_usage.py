"""The usage ledger: exactly one open and one close per lifetime, whatever
the message bus repeats."""

import sqlalchemy as sa

from arame.collector import usage
from arame.common.db import engine, models


def payload(rid="i-usage001", at="2026-11-21T06:00:00"):
    return {
        "account_id": "a-admin",
        "resource_id": rid,
        "resource_type": "instance",
        "flavor": "small",
        "vcpus": 1,
        "memory_mb": 512,
        "at": at,
    }


def records():
    with engine.session() as s:
        return [
            (r.resource_id, r.event)
            for r in s.scalars(
                sa.select(models.UsageRecord).order_by(models.UsageRecord.id)
            )
        ]


def test_open_and_close_are_written_once_each(db):
    for _ in range(3):  # the bus delivers twice or more
        with engine.session() as s:
            usage.record(s, "open", payload())
    with engine.session() as s:
        assert usage.record(s, "close", payload(at="2026-11-21T07:00:00"))
    with engine.session() as s:
        assert not usage.record(s, "close", payload())
    assert records() == [("i-usage001", "open"), ("i-usage001", "close")]


def test_close_without_open_is_not_billed(db):
    with engine.session() as s:
        assert usage.record(s, "close", payload("i-never001")) is False
    assert records() == []


def test_timestamps_with_zone_are_stored_as_utc(db):
    with engine.session() as s:
        usage.record(s, "open", payload(at="2026-11-21T08:00:00+02:00"))
    with engine.session() as s:
        at = s.scalar(sa.select(models.UsageRecord.at))
    assert at.isoformat() == "2026-11-21T06:00:00"
