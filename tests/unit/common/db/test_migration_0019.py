"""Migration 0019: the evacuation tables come and go; hosts are left as
they were."""

import sqlalchemy as sa
from alembic import command

from arame.common.db import migration

TABLES = {"host_evacuations", "instance_evacuations", "leader_leases"}


def test_upgrade_makes_and_downgrade_drops_the_evacuation_tables(
    parsed_conf, tmp_path
):
    url = f"sqlite:///{tmp_path}/m.db"
    migration.db_sync(url, revision="0018")
    eng = sa.create_engine(url)
    try:
        assert not TABLES & set(sa.inspect(eng).get_table_names())
        migration.db_sync(url, revision="0019")
        assert TABLES <= set(sa.inspect(eng).get_table_names())
        with eng.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO instance_evacuations (task_id, instance_id,"
                    " source_host, prior_status, dest_claimed, created_at, "
                    "updated_at) VALUES ('t-1', 'i-1', 'hv1', 'running', 0,"
                    " '2026-01-01', "
                    "'2026-01-01')"
                )
            )
        command.downgrade(migration.alembic_config(url), "0018")
        assert not TABLES & set(sa.inspect(eng).get_table_names())
    finally:
        eng.dispose()
