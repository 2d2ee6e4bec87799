"""Quotas are taken atomically and given back exactly once."""

import concurrent.futures

import pytest
import sqlalchemy as sa

from arame.common import exceptions, ids, quotas
from arame.common.db import engine, models


@pytest.fixture
def account(db):
    with engine.session() as s:
        s.add(models.Account(id="a-quota001", name="q"))
    quotas.ensure_row("a-quota001")
    return "a-quota001"


def test_limits_default_to_config_and_can_be_overridden(config, account):
    config("instances", 3, group="quota")
    assert quotas.limits(None)["instances"] == 3
    assert quotas.limits(models.Quota(instances=7))["instances"] == 7


def test_over_quota_names_the_limit_and_changes_nothing(config, account):
    config("vcpus", 4, group="quota")
    with engine.session() as s:
        quotas.take(s, account, {"instances": 1, "vcpus": 3, "memory_mb": 1})
    with pytest.raises(exceptions.OverQuota) as err:
        with engine.session() as s:
            quotas.take(
                s, account, {"instances": 1, "vcpus": 2, "memory_mb": 1}
            )
    assert err.value.status == 429
    assert err.value.details == {
        "resource": "vcpus",
        "limit": 4,
        "in_use": 3,
        "requested": 2,
    }
    with engine.session() as s:
        row = s.get(models.Quota, account)
        assert (row.instances_used, row.vcpus_used) == (1, 3)


def test_concurrent_takes_never_overshoot(config, account):
    config("instances", 5, group="quota")

    def one(_):
        try:
            with engine.session() as s:
                quotas.take(
                    s, account, {"instances": 1, "vcpus": 1, "memory_mb": 1}
                )
            return True
        except exceptions.OverQuota:
            return False

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, range(16)))
    assert results.count(True) == 5
    with engine.session() as s:
        assert s.get(models.Quota, account).instances_used == 5


def test_minus_one_is_no_limit(config, account):
    config("instances", -1, group="quota")
    for _ in range(30):
        with engine.session() as s:
            quotas.take(
                s, account, {"instances": 1, "vcpus": 0, "memory_mb": 0}
            )


def test_release_gives_back_once(config, account):
    iid = ids.generate("instance")
    with engine.session() as s:
        quotas.take(s, account, {"instances": 1, "vcpus": 2, "memory_mb": 512})
        s.add(
            models.Instance(
                id=iid,
                name="x",
                hostname="x",
                account_id=account,
                flavor="small",
                image_id="img-00000000",
                vcpus=2,
                memory_mb=512,
                disk_gb=1,
                quota_held=True,
            )
        )
    with engine.session() as s:
        assert quotas.release_instance(s, iid) is True
    with engine.session() as s:
        assert quotas.release_instance(s, iid) is False
        row = s.get(models.Quota, account)
        assert (row.instances_used, row.vcpus_used, row.memory_mb_used) == (
            0,
            0,
            0,
        )
    with engine.session() as s:
        assert not s.scalar(
            sa.select(models.Instance.quota_held).where(
                models.Instance.id == iid
            )
        )
