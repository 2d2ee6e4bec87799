"""Volume quotas over HTTP: POST /v1/volumes is refused with 429 and the
limit, before anything is written; the limits are the admin's to set."""

import sqlalchemy as sa

from arame.api.services import quotas as quota_service
from arame.common.db import engine, models
from tests.unit.api.conftest import assert_error
from tests.unit.api.routers import test_volumes

# The volume routes' fixtures, shared.
storage, new_volume = test_volumes.storage, test_volumes.new_volume


def volumes_of(account_id):
    with engine.session() as s:
        return list(
            s.scalars(
                sa.select(models.Volume.name).where(
                    models.Volume.account_id == account_id
                )
            )
        )


def test_over_storage_quota_is_429_with_the_limit(
    client, member, new_volume, config
):
    config("storage_gb", 5, group="quota")
    assert new_volume(member, name="a", size_gb=3).status_code == 202
    err = assert_error(
        new_volume(member, name="b", size_gb=3), 429, "over_quota"
    )
    assert err["details"] == {
        "resource": "storage_gb",
        "limit": 5,
        "in_use": 3,
        "requested": 3,
    }
    assert "storage_gb" in err["message"]
    assert volumes_of(member.account_id) == ["a"]  # the refused one: nothing
    assert new_volume(member, name="c", size_gb=2).status_code == 202


def test_over_volume_count_is_429(client, member, new_volume, config):
    config("volumes", 1, group="quota")
    assert new_volume(member, name="a").status_code == 202
    err = assert_error(new_volume(member, name="b"), 429, "over_quota")
    assert err["details"]["resource"] == "volumes"


def test_quota_view_shows_volume_limits_and_use(
    client, admin, member, new_volume, config
):
    config("volumes", 7, group="quota")
    new_volume(member, name="a", size_gb=4)
    view = quota_service.get(member_ctxt(member), member.account_id)
    assert (
        view["limits"]["volumes"],
        view["in_use"]["volumes"],
        view["in_use"]["storage_gb"],
    ) == (7, 1, 4)
    # The admin's PUT and PATCH both change only what they name.
    for verb in ("put", "patch"):
        r = getattr(client, verb)(
            f"/v1/quotas/{member.account_id}",
            headers=admin.headers,
            json={"instances": 3},
        )
        assert r.status_code == 200, r.text
        assert r.json()["limits"]["instances"] == 3


def member_ctxt(member):
    from arame.common.context import RequestContext

    return RequestContext(
        user_id=member.user_id, account_id=member.account_id, roles=("member",)
    )
