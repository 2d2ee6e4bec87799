"""Shared fixtures of the controller's unit tests.

Nothing external: each test gets its own SQLite file (schema made by the real
alembic migrations) and oslo.messaging's in-process ``fake://`` transport.
The SDK and CLI tests use none of these; every fixture here is asked for, not
automatic.
"""

from __future__ import annotations

import dataclasses
import functools
import shutil

import pytest

from arame.common import conf as arame_conf
from arame.common.conf import CONF
from tests.helpers.waiting import wait_until


@pytest.fixture(scope="session")
def parsed_conf():
    """oslo.config parsed once with no arguments and no config file."""
    arame_conf.parse_args([], default_config_files=[])
    return CONF


class Overrides:
    """``config(name, value, group=...)`` sets an option for one test."""

    def __init__(self) -> None:
        self._set: list[tuple[str, str | None]] = []

    def __call__(self, name: str, value, group: str | None = None) -> None:
        CONF.set_override(name, value, group=group)
        self._set.append((name, group))

    def clear(self) -> None:
        for name, group in reversed(self._set):
            CONF.clear_override(name, group=group)
        self._set.clear()


@pytest.fixture
def config(parsed_conf):
    overrides = Overrides()
    yield overrides
    overrides.clear()


@pytest.fixture(scope="session")
def schema_file(parsed_conf, tmp_path_factory):
    """An empty SQLite file at the newest schema, made once by the real
    migrations (tests/unit/db tests them one by one); each test's database
    is a copy, which saves the half second the migrations take a test."""
    from arame.common.db import engine, migration

    path = tmp_path_factory.mktemp("schema") / "t.db"
    CONF.set_override("connection", f"sqlite:///{path}", group="database")
    try:
        engine.reset()
        migration.db_sync()
    finally:
        engine.reset()
        CONF.clear_override("connection", group="database")
    return path


@pytest.fixture
def db(config, tmp_path, schema_file):
    """An empty database at the newest schema, the migrations' own."""
    from arame.common.db import engine

    shutil.copyfile(schema_file, tmp_path / "t.db")
    config("connection", f"sqlite:///{tmp_path}/t.db", group="database")
    engine.reset()
    yield
    engine.reset()


@pytest.fixture
def bus(config):
    """The in-process fake transport, fresh for each test."""
    from arame.common.rpc import transport

    config("transport_url", "fake://")
    transport.cleanup()
    yield
    transport.cleanup()


@pytest.fixture
def auth_state():
    """Forget the cached token key and the policy enforcer around a test."""
    from arame.api import policy
    from arame.api.auth import tokens

    tokens.reset_cache()
    policy.reset()
    yield
    tokens.reset_cache()
    policy.reset()


@dataclasses.dataclass
class Cloud:
    admin_id: str
    image_id: str
    admin_password: str = "admin-secret"


@pytest.fixture
def cloud(db) -> Cloud:
    """A database with what every cloud starts with: the admin, the default
    flavors (small, medium, large) and the public test image."""
    from arame.common.db import seed

    seed.seed_flavors()
    admin_id = seed.bootstrap_admin(Cloud.admin_password)
    image_id = seed.seed_test_image()
    return Cloud(admin_id=admin_id, image_id=image_id)


def _add_host(
    name: str,
    *,
    vcpus: int = 8,
    memory_mb: int = 16384,
    disk_gb: int = 500,
    provider: str = "vm",
    enabled: bool = True,
    age_s: float = 0.0,
    reported: bool = True,
    **used,
) -> None:
    """Insert a hypervisor host row as a heartbeat would have."""
    import datetime as dt

    from arame.common import ids
    from arame.common.db import engine, models

    last = (
        (models.utcnow() - dt.timedelta(seconds=age_s)) if reported else None
    )
    with engine.session() as s:
        s.add(
            models.Host(
                id=ids.generate("host"),
                name=name,
                provider=provider,
                hypervisor_type="fake",
                vcpus=vcpus,
                memory_mb=memory_mb,
                disk_gb=disk_gb,
                enabled=enabled,
                last_report_at=last,
                **used,
            )
        )


def _add_instance(
    *,
    account_id: str = "a-admin",
    flavor: str = "small",
    image_id: str = "img-00000000",
    name: str = "web-1",
    status: str = "pending",
    host: str | None = None,
    claimed: bool = False,
    action: str = "create",
    timeout_s: int = 600,
    vcpus: int | None = None,
    memory_mb: int | None = None,
    disk_gb: int | None = None,
) -> tuple[str, str]:
    """Insert an instance and its task as the API would; (instance, task)."""
    from arame.common import ids, tasks
    from arame.common.db import engine, models
    from arame.common.db.seed import FLAVORS

    f = {x["name"]: x for x in FLAVORS}[flavor]
    now = models.utcnow()
    iid = ids.generate("instance")
    with engine.session() as s:
        s.add(
            models.Instance(
                id=iid,
                name=name,
                hostname=name.lower(),
                account_id=account_id,
                flavor=flavor,
                image_id=image_id,
                provider=f["provider"],
                vcpus=vcpus if vcpus is not None else f["vcpus"],
                memory_mb=memory_mb
                if memory_mb is not None
                else f["memory_mb"],
                disk_gb=disk_gb if disk_gb is not None else f["disk_gb"],
                status=status,
                host=host,
                claimed=claimed,
                created_at=now,
                updated_at=now,
            )
        )
        task = tasks.create(
            s,
            account_id=account_id,
            resource_id=iid,
            resource_type="instance",
            action=action,
            timeout_s=timeout_s,
        )
        tid = task.id
    return iid, tid


def _get_row(model, key):
    """A fresh copy of one row (None if absent)."""
    from arame.common.db import engine

    with engine.session() as s:
        return s.get(model, key)


@pytest.fixture
def add_host(db):
    return _add_host


@pytest.fixture
def add_instance(cloud):
    """Needs the seeded cloud: an instance belongs to an account."""

    def add(**kw):
        kw.setdefault("image_id", cloud.image_id)
        return _add_instance(**kw)

    return add


@pytest.fixture
def get_row(db):
    return _get_row


@pytest.fixture
def wait_for():
    """wait_for(predicate, timeout=10): tests.helpers' wait, polling often
    (everything it waits on here runs in this process)."""
    return functools.partial(wait_until, interval=0.01)


def _set_instance_status(instance_id, status, **values):
    """Change an instance row behind the flow's back (a concurrent DELETE)."""
    import sqlalchemy as sa

    from arame.common.db import engine, models

    with engine.session() as s:
        s.execute(
            sa.update(models.Instance)
            .where(models.Instance.id == instance_id)
            .values(status=status, **values)
        )


@pytest.fixture
def behind_the_back(db):
    """set(instance_id, status, **values): a change made by someone else."""
    return _set_instance_status
