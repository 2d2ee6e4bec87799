"""Migration 0018: hosts gain maintenance and the reasons an operator
took one out; the hosts already there stay in service."""

import sqlalchemy as sa
from alembic import command

from arame.common.db import migration


def test_existing_hosts_stay_in_service_and_downgrade_drops_columns(
    parsed_conf, tmp_path
):
    url = f"sqlite:///{tmp_path}/m.db"
    migration.db_sync(url, revision="0017")
    eng = sa.create_engine(url)
    try:
        with eng.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO hosts (id, name, provider, hypervisor_type, "
                    "vcpus, memory_mb, disk_gb, vcpus_used, memory_mb_used, "
                    "disk_gb_used, instance_count, enabled, created_at, "
                    "updated_at) VALUES ('h-1', 'hv1', 'vm', 'fake', 4, "
                    "4096, 40, 0, 0, 0, 0, 0, '2026-01-01', '2026-01-01')"
                )
            )
        migration.db_sync(url, revision="0018")
        with eng.connect() as conn:
            row = conn.execute(
                sa.text(
                    "SELECT enabled, maintenance, maintenance_reason, "
                    "disabled_reason, state_changed_by FROM hosts"
                )
            ).one()
        assert tuple(row) == (0, 0, None, None, None)
        command.downgrade(migration.alembic_config(url), "0017")
        cols = {c["name"] for c in sa.inspect(eng).get_columns("hosts")}
    finally:
        eng.dispose()
    assert "maintenance" not in cols and "disabled_reason" not in cols
    assert "enabled" in cols
