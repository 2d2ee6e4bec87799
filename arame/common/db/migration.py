"""`arame-manage db sync`: bring a database to the newest schema (alembic)."""

import os

from alembic import command
from alembic.config import Config

from arame.common.db import engine as db_engine

_HERE = os.path.dirname(os.path.abspath(__file__))


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", os.path.join(_HERE, "migrations"))
    if url:
        cfg.attributes["url"] = url
    return cfg


def db_sync(url: str | None = None, revision: str = "head") -> None:
    cfg = alembic_config(url)
    if url is None:
        # Not begun here: the migrations' environment begins and commits
        # (SQLite needs a pragma set outside any transaction first).
        with db_engine.get_engine().connect() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    else:
        command.upgrade(cfg, revision)


def current(url: str | None = None) -> str | None:
    from alembic.runtime.migration import MigrationContext

    eng = db_engine.create_engine(url) if url else db_engine.get_engine()
    with eng.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
