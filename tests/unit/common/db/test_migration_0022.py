"""Migration 0022: hosts gain an index on updated_at (the scheduler's
host cache reads the rows changed since its last read)."""

import sqlalchemy as sa
from alembic import command

from arame.common.db import migration


def _indexes(eng) -> set[str]:
    return {i["name"] for i in sa.inspect(eng).get_indexes("hosts")}


def test_index_made_and_dropped(parsed_conf, tmp_path):
    url = f"sqlite:///{tmp_path}/m.db"
    migration.db_sync(url, revision="0022")
    eng = sa.create_engine(url)
    try:
        assert "ix_hosts_updated_at" in _indexes(eng)
        command.downgrade(migration.alembic_config(url), "0021")
        assert "ix_hosts_updated_at" not in _indexes(eng)
    finally:
        eng.dispose()
