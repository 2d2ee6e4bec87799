"""Migration 0023: security groups gain a revision (a host keeps the
newest version of a group's rules it is given); existing groups start
at 0."""

import sqlalchemy as sa
from alembic import command

from arame.common.db import migration


def _columns(eng) -> set[str]:
    return {c["name"] for c in sa.inspect(eng).get_columns("security_groups")}


def test_revision_added_at_zero_and_dropped(parsed_conf, tmp_path):
    url = f"sqlite:///{tmp_path}/m.db"
    migration.db_sync(url, revision="0022")
    eng = sa.create_engine(url)
    try:
        with eng.begin() as c:
            c.execute(
                sa.text(
                    "INSERT INTO accounts (id, name, enabled, created_at, updated_at)"
                    " VALUES ('a-0000000001', 'a', 1, '2026-01-01', "
                    "'2026-01-01')"
                )
            )
            c.execute(
                sa.text(
                    "INSERT INTO security_groups (id, name, account_id, "
                    "description, rules_text, rules, created_at, updated_at)"
                    " VALUES ('sg-00000001', 'web', 'a-0000000001', '', '',"
                    " '[]', '2026-01-01', '2026-01-01')"
                )
            )
        command.upgrade(migration.alembic_config(url), "0023")
        assert "revision" in _columns(eng)
        with eng.connect() as c:
            assert (
                c.execute(
                    sa.text("SELECT revision FROM security_groups")
                ).scalar_one()
                == 0
            )
        command.downgrade(migration.alembic_config(url), "0022")
        assert "revision" not in _columns(eng)
    finally:
        eng.dispose()
