"""Volume quotas: one volume and its GiB taken atomically with the record,
given back exactly once."""

import concurrent.futures

import pytest

from arame.common import exceptions, quotas
from arame.common.db import engine, models

ACCOUNT = "a-volq0001"


@pytest.fixture
def account(db):
    with engine.session() as s:
        s.add(models.Account(id=ACCOUNT, name="vq"))
    quotas.ensure_row(ACCOUNT)
    return ACCOUNT


def used():
    with engine.session() as s:
        q = s.get(models.Quota, ACCOUNT)
        return q.volumes_used, q.storage_gb_used


def test_defaults_come_from_config(config, account):
    config("volumes", 3, group="quota")
    config("storage_gb", 30, group="quota")
    lim = quotas.limits(None)
    assert (lim["volumes"], lim["storage_gb"]) == (3, 30)
    assert quotas.limits(models.Quota(storage_gb=-1))["storage_gb"] == -1


def test_storage_over_quota_names_the_limit_and_holds_nothing(config, account):
    config("storage_gb", 10, group="quota")
    with engine.session() as s:
        quotas.take_volume(s, account, "vol-volq0001", 8)
    with pytest.raises(exceptions.OverQuota) as err, engine.session() as s:
        quotas.take_volume(s, account, "vol-volq0002", 3)
    assert err.value.status == 429
    assert err.value.details == {
        "resource": "storage_gb",
        "limit": 10,
        "in_use": 8,
        "requested": 3,
    }
    assert used() == (1, 8)
    with engine.session() as s:
        assert s.get(models.QuotaHold, "vol-volq0002") is None


def test_volume_count_limit(config, account):
    config("volumes", 1, group="quota")
    with engine.session() as s:
        quotas.take_volume(s, account, "vol-volq0001", 1)
    with pytest.raises(exceptions.OverQuota) as err, engine.session() as s:
        quotas.take_volume(s, account, "vol-volq0002", 1)
    assert err.value.details["resource"] == "volumes"


def test_given_back_exactly_once(account):
    with engine.session() as s:
        quotas.take_volume(s, account, "vol-volq0001", 5)
        quotas.take_volume(s, account, "vol-volq0002", 7)
    assert used() == (2, 12)
    with engine.session() as s:
        assert quotas.release_volume(s, "vol-volq0001") is True
    with engine.session() as s:
        assert quotas.release_volume(s, "vol-volq0001") is False
        # A volume that never held anything (a root volume).
        assert quotas.release_volume(s, "vol-root0001") is False
    assert used() == (1, 7)


def test_concurrent_give_backs_subtract_once(account):
    with engine.session() as s:
        quotas.take_volume(s, account, "vol-volq0001", 5)

    def one(_):
        with engine.session() as s:
            return quotas.release_volume(s, "vol-volq0001")

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    assert results.count(True) == 1
    assert used() == (0, 0)


def test_concurrent_takes_never_overshoot(config, account):
    config("storage_gb", 10, group="quota")

    def one(n):
        try:
            with engine.session() as s:
                quotas.take_volume(s, account, f"vol-volc{n:04d}", 3)
            return True
        except exceptions.OverQuota:
            return False

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    assert results.count(True) == 3
    assert used() == (3, 9)
