"""Migration 0021: services gain rpc_version; the rows already there
keep null (a service from before it was reported) until they beat."""

import sqlalchemy as sa
from alembic import command

from arame.common.db import migration


def test_existing_services_keep_null_and_downgrade_drops_it(
    parsed_conf, tmp_path
):
    url = f"sqlite:///{tmp_path}/m.db"
    migration.db_sync(url, revision="0020")
    eng = sa.create_engine(url)
    try:
        with eng.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO services (host, binary, topic, version, "
                    "disabled, created_at, updated_at) VALUES ('hv1', "
                    "'arame-hva', 'hva', '0.1.0', 0, '2026-01-01', "
                    "'2026-01-01')"
                )
            )
        migration.db_sync(url, revision="0021")
        with eng.connect() as conn:
            row = conn.execute(
                sa.text("SELECT host, rpc_version FROM services")
            ).one()
        assert tuple(row) == ("hv1", None)
        command.downgrade(migration.alembic_config(url), "0020")
        cols = {c["name"] for c in sa.inspect(eng).get_columns("services")}
    finally:
        eng.dispose()
    assert "rpc_version" not in cols and "version" in cols
