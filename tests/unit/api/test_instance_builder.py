"""instance_builder: a spec resolved (ids or names, within what the account
sees), N instances made in one transaction with their quota taken at once,
a sized root held in storage_gb and given back with the instance."""

import dataclasses

import pytest
import sqlalchemy as sa

from arame.api.services import instance_builder as ib
from arame.common import exceptions, ids, quotas
from arame.common.db import engine, models, seed


@dataclasses.dataclass
class Ctxt:
    account_id: str
    user_id: str | None = None
    request_id: str | None = None


@pytest.fixture
def account(cloud):
    seed.seed_default_network()
    aid = ids.generate("account")
    with engine.session() as s:
        s.add(models.Account(id=aid, name=f"acct-{aid}"))
    return Ctxt(aid)


def _image(account_id, name, visibility="private", status="available"):
    iid = ids.generate("image")
    with engine.session() as s:
        s.add(
            models.Image(
                id=iid,
                name=name,
                account_id=account_id,
                visibility=visibility,
                format="qcow2",
                status=status,
            )
        )
    return iid


def _key_pair(account_id, name):
    kid = ids.generate("key_pair")
    with engine.session() as s:
        s.add(
            models.KeyPair(
                id=kid,
                name=name,
                account_id=account_id,
                type="ssh-ed25519",
                public_key=f"ssh-ed25519 AAAA{name}",
                fingerprint="SHA256:x",
            )
        )
    return kid


def _prepare(ctxt, spec, prefix=""):
    ib.before(ctxt, spec)
    with engine.session() as s:
        return ib.prepare(s, ctxt, spec, prefix)


def _build(ctxt, spec, names, **kw):
    ib.before(ctxt, spec)
    with engine.session() as s:
        p = ib.prepare(s, ctxt, spec)
        return ib.make(s, ctxt, p, names, **kw)


def _invalid(ctxt, spec, prefix=""):
    with pytest.raises(exceptions.Invalid) as e:
        _prepare(ctxt, spec, prefix)
    return e.value


def _count(model, **where):
    with engine.session() as s:
        stmt = sa.select(sa.func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return s.scalar(stmt)


def test_names_resolve_within_what_the_account_sees(account, cloud):
    own = _image(account.account_id, "mine")
    _image("a-admin", "mine")  # another account's private image: unseen
    kp = _key_pair(account.account_id, "laptop")
    p = _prepare(
        account,
        ib.Spec(flavor="small", image="mine", key_pairs=["laptop", kp]),
    )
    assert p.image.id == own
    assert [k.id for k in p.key_pairs] == [kp]  # a name and its id: once
    assert p.network is not None and p.network.name == "default"
    (default_group,) = p.group_ids
    assert ids.is_valid("security_group", default_group)


def test_an_ambiguous_name_is_a_422_listing_the_candidates(account, cloud):
    a = _image(account.account_id, "ubuntu")
    b = _image("a-admin", "ubuntu", visibility="public")
    err = _invalid(account, ib.Spec(flavor="small", image="ubuntu"), "spec.")
    assert err.details["field"] == "spec.image"
    assert sorted(err.details["candidates"]) == sorted([a, b])
    assert a in err.message and b in err.message


@pytest.mark.parametrize(
    "spec,field",
    [
        (dict(flavor="huge"), "spec.flavor"),
        (dict(image="nope"), "spec.image"),
        (dict(image="img-zzzzzzzz"), "spec.image"),
        (dict(network="elsewhere"), "spec.network"),
        (dict(security_groups=["web"]), "spec.security_groups"),
        (dict(key_pairs=["k"]), "spec.key_pairs"),
        (dict(provider="bm"), "spec.provider"),
        (dict(root_gb=1), "spec.root_gb"),
        (dict(root_gb=10**6), "spec.root_gb"),
        (dict(key_pairs=[f"k{i}" for i in range(11)]), "spec.key_pairs"),
    ],
)
def test_each_bad_field_is_named_with_its_prefix(account, cloud, spec, field):
    for i in range(11):
        _key_pair(account.account_id, f"k{i}")
    spec = {"flavor": "small", "image": cloud.image_id} | spec
    if spec.get("key_pairs") == ["k"]:
        spec["key_pairs"] = ["absent"]
    err = _invalid(account, ib.Spec(**spec), "spec.")
    assert err.details["field"] == field
    assert err.message.startswith(field + ":")


def test_an_image_not_available_is_refused(account, cloud):
    iid = _image(account.account_id, "half", status="saving")
    err = _invalid(account, ib.Spec(flavor="small", image=iid))
    assert err.details["field"] == "image" and "saving" in err.message


def test_make_writes_n_instances_each_with_its_own_task(account, cloud):
    un = ids.generate("unit")
    parent = ids.generate("task")
    made = _build(
        account,
        ib.Spec(flavor="small", image=cloud.image_id),
        ["n-1", "n-2", "n-3"],
        unit_id=un,
        parent_task_id=parent,
        tags=["lab"],
    )
    assert [m.instance.name for m in made] == ["n-1", "n-2", "n-3"]
    assert len({m.task.id for m in made}) == 3
    assert all(m.tags == ["lab"] and len(m.ports) == 1 for m in made)
    with engine.session() as s:
        rows = s.scalars(
            sa.select(models.Instance).where(models.Instance.unit_id == un)
        ).all()
        assert len(rows) == 3
        assert {t.parent_id for t in s.scalars(sa.select(models.Task))} == {
            parent
        }
        q = s.get(models.Quota, account.account_id)
        assert (q.instances_used, q.storage_gb_used) == (3, 0)


def test_quota_for_all_or_nothing(account, cloud):
    with engine.session() as s:
        s.add(models.Quota(account_id=account.account_id, instances=2))
    with pytest.raises(exceptions.OverQuota) as e:
        _build(
            account,
            ib.Spec(flavor="small", image=cloud.image_id),
            ["a", "b", "c"],
        )
    assert e.value.details["requested"] == 3
    assert _count(models.Instance) == 0 and _count(models.Port) == 0


def test_fixed_addresses_by_index_and_a_taken_one_writes_nothing(
    account, cloud
):
    spec = ib.Spec(flavor="small", image=cloud.image_id)
    made = _build(
        account, spec, ["a", "b"], ip_addresses=["10.200.0.50", None]
    )
    assert made[0].ports[0].ip_address == "10.200.0.50"
    with pytest.raises(exceptions.Conflict):
        _build(account, spec, ["c", "d"], ip_addresses=[None, "10.200.0.50"])
    assert _count(models.Instance) == 2


def test_a_sized_root_counts_in_storage_gb_until_the_instance_goes(
    account, cloud
):
    spec = ib.Spec(flavor="small", image=cloud.image_id, root_gb=30)
    made = _build(account, spec, ["a", "b"])
    inst = made[0].instance
    assert (inst.root_gb, inst.disk_gb) == (30, 30)
    with engine.session() as s:
        q = s.get(models.Quota, account.account_id)
        assert q.storage_gb_used == 60
        assert quotas.release_instance(s, inst.id)
        assert not quotas.release_instance(s, inst.id)
    with engine.session() as s:
        q = s.get(models.Quota, account.account_id)
        assert (q.instances_used, q.storage_gb_used) == (1, 30)


def test_root_gb_over_the_storage_quota_is_429(account, cloud):
    with engine.session() as s:
        s.add(models.Quota(account_id=account.account_id, storage_gb=50))
    spec = ib.Spec(flavor="small", image=cloud.image_id, root_gb=30)
    with pytest.raises(exceptions.OverQuota) as e:
        _build(account, spec, ["a", "b"])
    assert e.value.details["resource"] == "storage_gb"


def test_the_flavor_size_as_root_gb_is_no_sized_root(account, cloud):
    with engine.session() as s:
        disk = s.scalar(
            sa.select(models.Flavor.disk_gb).where(
                models.Flavor.name == "small"
            )
        )
    spec = ib.Spec(flavor="small", image=cloud.image_id, root_gb=disk)
    (m,) = _build(account, spec, ["a"])
    assert m.instance.root_gb is None and m.instance.disk_gb == disk


def test_several_key_pairs_are_kept_in_order(account, cloud):
    a = _key_pair(account.account_id, "a")
    b = _key_pair(account.account_id, "b")
    spec = ib.Spec(flavor="small", image=cloud.image_id, key_pairs=["b", a])
    (m,) = _build(account, spec, ["x"])
    assert m.instance.key_pair_id == b
    assert m.instance.key_pair_ids == [b, a]


def test_cast_sends_one_build_each(account, cloud):
    class Sched:
        sent: list = []

        def build_instance(self, ctxt, task_id, instance_id, provider=None):
            self.sent.append((task_id, instance_id))

    made = _build(
        account, ib.Spec(flavor="small", image=cloud.image_id), ["a", "b"]
    )
    sched = Sched()
    ib.cast(account, made, sched)
    assert sched.sent == [(m.task.id, m.instance.id) for m in made]


def test_an_accounts_rows_are_made_sure_of_once_per_database(
    account, cloud, config, tmp_path, schema_file, monkeypatch
):
    """The quota row and the default group exist for good once made: an
    account's later requests skip the two transactions; a new database
    (the same account id on it) is made sure of again."""
    import shutil

    from arame.common import secgroups_db

    made = []
    real = secgroups_db.ensure_default
    monkeypatch.setattr(
        secgroups_db,
        "ensure_default",
        lambda a: made.append(a) or real(a),
    )
    ib.before(account)
    ib.before(account)
    assert made == [account.account_id]
    with engine.session() as s:
        assert s.get(models.Quota, account.account_id) is not None
    shutil.copyfile(schema_file, tmp_path / "other.db")
    config("connection", f"sqlite:///{tmp_path}/other.db", group="database")
    engine.reset()
    ib.before(account)
    assert made == [account.account_id] * 2
