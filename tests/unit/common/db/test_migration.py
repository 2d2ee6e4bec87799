"""`arame-manage db sync` brings a database to the schema the code expects."""

import sqlite3

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


def test_an_sqlite_database_in_use_upgrades_across_table_rebuilds(
    parsed_conf, tmp_path
):
    # SQLite alters a table by rebuilding it; with foreign keys enforced
    # the old table could not be dropped once rows referenced it (an
    # all-in-one's database with its seeded network and an instance's
    # address: 0016 rebuilds `networks`).
    url = f"sqlite:///{tmp_path}/old.db"
    migration.db_sync(url, revision="0015")
    eng = engine.create_engine(url)
    try:
        with eng.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO accounts (id, name, enabled, created_at, "
                "updated_at) VALUES ('a-admin', 'admin', 1, '2026-01-01', "
                "'2026-01-01')"
            )
            conn.exec_driver_sql(
                "INSERT INTO networks (id, name, account_id, shared, "
                "ip_version, cidr, gateway, dns_domain, dhcp_ranges, "
                "segmentation, segment_id, mtu, created_at, updated_at) "
                "VALUES ('nw-aaaaaaaa', 'default', 'a-admin', 1, 4, "
                "'10.200.0.0/24', '10.200.0.1', 'lab', "
                "'[[\"10.200.0.2\", \"10.200.0.254\"]]', 'vxlan', 7, 1450, "
                "'2026-01-01', '2026-01-01')"
            )
    finally:
        eng.dispose()
    # An address on it (its instance's row does not matter here: written
    # without the pragma).
    raw = sqlite3.connect(f"{tmp_path}/old.db")
    raw.execute(
        "INSERT INTO ports (network_id, instance_id, ip_address, "
        "mac_address, hostname, created_at) VALUES ('nw-aaaaaaaa', "
        "'i-aaaaaaaa', '10.200.0.9', '52:54:00:00:00:09', 'x', '2026-01-01')"
    )
    raw.commit()
    raw.close()
    migration.db_sync(url)
    assert migration.current(url) != "0015"
    eng = engine.create_engine(url)
    try:
        with eng.connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT dhcp_address, external FROM networks"
            ).one()
            fks = conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
    finally:
        eng.dispose()
    assert tuple(row) == ("10.200.0.254", 0)
    assert fks == 1  # enforced again on new connections
