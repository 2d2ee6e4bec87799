import logging

from alembic import context

from arame.common.db import engine as db_engine
from arame.common.db import models

config = context.config
target_metadata = models.Base.metadata
LOG = logging.getLogger("arame.migrations")


def _migrate(conn) -> None:
    """Run the migrations on `conn`, which is in no transaction yet.

    SQLite alters a table by rebuilding it (batch mode): with foreign keys
    enforced, dropping the old table fails as soon as rows reference it
    (an all-in-one's database after its first day). SQLite ignores
    `PRAGMA foreign_keys` inside a transaction, so it is switched off
    before the migrations' transaction, the references checked after it,
    and switched on again: SQLite's own procedure for altering a table.
    """
    sqlite = conn.dialect.name == "sqlite"
    raw = conn.connection.dbapi_connection if sqlite else None
    if sqlite:
        raw.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            render_as_batch=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        if conn.in_transaction():
            conn.commit()
        if sqlite:
            # Said, not refused: rows left dangling before this upgrade
            # (a database from before foreign keys were enforced) must
            # not stop it.
            broken = raw.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                LOG.warning(
                    "rows whose foreign keys point nowhere (table, rowid, "
                    "parent): %s",
                    broken[:20],
                )
    finally:
        if sqlite:
            raw.execute("PRAGMA foreign_keys=ON")


def run_migrations_online():
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    eng = db_engine.create_engine(config.attributes["url"])
    try:
        with eng.connect() as conn:
            _migrate(conn)
    finally:
        eng.dispose()


run_migrations_online()
