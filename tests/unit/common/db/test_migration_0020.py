"""Migration 0020: hosts gain a BMC (for power fencing); the hosts
already there have none."""

import sqlalchemy as sa
from alembic import command

from arame.common.db import migration

BMC = ("bmc_address", "bmc_port", "bmc_username", "bmc_password")


def test_existing_hosts_have_no_bmc_and_downgrade_drops_it(
    parsed_conf, tmp_path
):
    url = f"sqlite:///{tmp_path}/m.db"
    migration.db_sync(url, revision="0019")
    eng = sa.create_engine(url)
    try:
        with eng.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO hosts (id, name, provider, hypervisor_type, "
                    "vcpus, memory_mb, disk_gb, vcpus_used, memory_mb_used, "
                    "disk_gb_used, instance_count, enabled, created_at, "
                    "updated_at) VALUES ('h-1', 'hv1', 'vm', 'fake', 4, "
                    "4096, 40, 0, 0, 0, 0, 1, '2026-01-01', '2026-01-01')"
                )
            )
        migration.db_sync(url, revision="0020")
        with eng.connect() as conn:
            row = conn.execute(
                sa.text(
                    f"SELECT {', '.join(BMC)}, bmc_interface, name FROM hosts"
                )
            ).one()
        assert tuple(row) == (None, None, None, None, None, "hv1")
        command.downgrade(migration.alembic_config(url), "0019")
        cols = {c["name"] for c in sa.inspect(eng).get_columns("hosts")}
    finally:
        eng.dispose()
    assert not cols & {*BMC, "bmc_interface"}
    assert "storage_address" in cols
