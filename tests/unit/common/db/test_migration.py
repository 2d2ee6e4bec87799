"""`arame-manage db sync` brings a database to the schema the code expects."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from arame.common.db import engine, migration, models, seed


def test_db_sync_reaches_head_and_is_idempotent(db):
    head = migration.current()
    assert head is not None
    migration.db_sync()  # a second sync is a no-op
    assert migration.current() == head


def test_migrated_schema_matches_the_models(db):
    with engine.get_engine().connect() as conn:
        ctx = MigrationContext.configure(conn)
        diff = compare_metadata(ctx, models.Base.metadata)
    assert diff == []


def test_db_sync_with_an_explicit_url(tmp_path, parsed_conf):
    url = f"sqlite:///{tmp_path}/other.db"
    migration.db_sync(url)
    assert migration.current(url) is not None
    eng = engine.create_engine(url)
    try:
        names = set(sa.inspect(eng).get_table_names())
    finally:
        eng.dispose()
    assert {
        "instances",
        "hosts",
        "tasks",
        "task_events",
        "users",
        "accounts",
        "services",
        "idempotency_keys",
    } <= names


def test_seeds_are_idempotent(db):
    assert seed.seed_flavors() == ["small", "medium", "large"]
    assert seed.seed_flavors() == []
    admin = seed.bootstrap_admin("pw1")
    assert seed.bootstrap_admin("pw2") == admin
    image = seed.seed_test_image()
    assert seed.seed_test_image() == image
    with engine.session() as s:
        assert (
            s.scalar(sa.select(sa.func.count()).select_from(models.User)) == 1
        )
        assert (
            s.scalar(sa.select(sa.func.count()).select_from(models.Image)) == 1
        )
        img = s.get(models.Image, image)
        assert (img.status, img.visibility) == ("available", "public")


def test_bootstrap_with_reset_password_revokes_old_tokens(db):
    from arame.common.passwords import verify_password

    uid = seed.bootstrap_admin("old")
    seed.bootstrap_admin("new", reset_password=True)
    with engine.session() as s:
        user = s.get(models.User, uid)
        assert verify_password("new", user.password_hash)
        assert not verify_password("old", user.password_hash)
        assert user.token_generation == 1
