"""The host's MariaDB: started if it does not answer, a database and a user
per deployment."""

import os
import shutil
import subprocess
import urllib.parse

from arame.common.waiting import wait_for
from arame.deploy.infra.commands import require

MYSQL_SOCKET = "/run/mysqld/mysqld.sock"
_HOSTS = ("localhost", "127.0.0.1")


class MariaDB:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 3306,
        socket_path: str = MYSQL_SOCKET,
    ):
        self.host, self.port, self.socket_path = host, port, socket_path

    def _root(self):
        import pymysql

        return pymysql.connect(
            unix_socket=self.socket_path, user="root", autocommit=True
        )

    def running(self) -> bool:
        try:
            self._root().close()
            return True
        except Exception:
            return False

    def ensure_running(
        self, log_path: str = "/tmp/arame-mariadb.log", timeout: float = 60
    ) -> bool:
        if self.running():
            return False
        safe = require("mysqld_safe", "mariadb-server")
        os.makedirs(os.path.dirname(self.socket_path), exist_ok=True)
        try:
            shutil.chown(os.path.dirname(self.socket_path), "mysql", "mysql")
        except (LookupError, PermissionError):
            pass
        with open(log_path, "ab") as log:
            subprocess.Popen(
                [safe],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        wait_for(self.running, timeout, "MariaDB to accept connections")
        return True

    def create_database(self, name: str, user: str, password: str) -> None:
        _check_sql_name(name)
        _check_sql_name(user)
        conn = self._root()
        try:
            with conn.cursor() as c:
                c.execute(
                    f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4"
                )
                for host in _HOSTS:
                    c.execute(
                        f"CREATE USER IF NOT EXISTS '{user}'@'{host}' IDENTIFIED BY %s",
                        (password,),
                    )
                    c.execute(
                        f"ALTER USER '{user}'@'{host}' IDENTIFIED BY %s",
                        (password,),
                    )
                    c.execute(f"GRANT ALL ON `{name}`.* TO '{user}'@'{host}'")
        finally:
            conn.close()

    def _execute_as_root(self, *statements: str) -> None:
        conn = self._root()
        try:
            with conn.cursor() as c:
                for stmt in statements:
                    c.execute(stmt)
        finally:
            conn.close()

    def drop_database(self, name: str) -> None:
        _check_sql_name(name)
        self._execute_as_root(f"DROP DATABASE IF EXISTS `{name}`")

    def drop_user(self, user: str) -> None:
        _check_sql_name(user)
        self._execute_as_root(
            *(f"DROP USER IF EXISTS '{user}'@'{host}'" for host in _HOSTS)
        )

    def url(self, name: str, user: str, password: str) -> str:
        q = urllib.parse.quote
        return (
            f"mysql+pymysql://{q(user, safe='')}:{q(password, safe='')}@"
            f"{self.host}:{self.port}/{name}?charset=utf8mb4"
        )


def _check_sql_name(name: str) -> None:
    # Names go into DDL, which takes no bind parameters.
    if not name.replace("_", "").isalnum() or len(name) > 64:
        raise ValueError(f"unsafe database or user name: {name!r}")
