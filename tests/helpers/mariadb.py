"""A database of a test's own on the machine's MariaDB."""

import contextlib
import secrets
import uuid

from arame.common.db import migration
from arame.deploy import infra


@contextlib.contextmanager
def fresh_database(prefix: str):
    """A new database and user named `prefix` + a random part, at the
    newest schema; its URL. Dropped afterwards, also after a failure."""
    mariadb = infra.MariaDB()
    mariadb.ensure_running()
    name = prefix + uuid.uuid4().hex[:8]
    password = secrets.token_hex(12)
    mariadb.create_database(name, name, password)
    try:
        url = mariadb.url(name, name, password)
        migration.db_sync(url)
        yield url
    finally:
        mariadb.drop_database(name)
        mariadb.drop_user(name)
