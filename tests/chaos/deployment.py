"""The chaos suite's deployment: every daemon its own process (two
schedulers), the fake drivers keeping their state in files, a spawn as
long as a small boot, and the shipped recovery settings.
"""

import contextlib
import os
import uuid

import sqlalchemy as sa

from arame.deploy import local
from arame.sdk import Client
from tests.helpers.ports import free_port

ADMIN_PASSWORD = "chaos-admin-pw"

SCHEDULERS = ("scheduler-1", "scheduler-2")
# Started in this order; the API last, as tools/single-host does, so that
# no request arrives before a scheduler can take it.
DAEMONS = (
    ("collector", "collector"),
    ("scheduler", SCHEDULERS[0]),
    ("scheduler", SCHEDULERS[1]),
    ("hva", "hva"),
    ("sta", "sta"),
    ("nsa", "nsa"),
    ("api", "api"),
)

# A boot's worth of spawn: with the instant fake, in-flight work lasts
# milliseconds and no kill ever lands on it.
SPAWN_DELAY = 3


class ChaosDeployment(local.LocalDeployment):
    """A LocalDeployment that remembers how each daemon was started, so
    that a fault can restart it the same way."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.started: dict[str, tuple[str, dict | None]] = {}

    def start(self, role, name=None, overlay=None):
        self.started[name or role] = (role, overlay)
        return super().start(role, name, overlay)

    def restart(self, name: str):
        role, overlay = self.started[name]
        return self.start(role, name, overlay)

    def state_file(self, agent: str) -> str:
        """The fake driver's state of `agent` (hva, sta or nsa)."""
        return os.path.join(self.state_dir, f"fake-{agent}.json")

    def host_of(self, name: str) -> str:
        """The [DEFAULT] host daemon `name` reports as."""
        _, overlay = self.started[name]
        return ((overlay or {}).get("DEFAULT") or {}).get(
            "host", self.conf["DEFAULT"]["host"]
        )

    def client(self, timeout: float = 30) -> Client:
        c = Client(self.api_url, timeout=timeout)
        c.login("admin", self.admin_password)
        return c

    def rows(self, query: str, **params) -> list[sa.Row]:
        """A read of the deployment's database (a fresh connection: the
        database may have been restarted since the last one)."""
        eng = self.engine()
        try:
            with eng.connect() as db:
                return list(db.execute(sa.text(query), params))
        finally:
            eng.dispose()


def chaos_conf(dep_name: str, state_dir: str) -> dict:
    def state(agent):
        return os.path.join(state_dir, f"fake-{agent}.json")

    return {
        # One host name for the deployment's daemons (the hypervisor, the
        # storage and naming nodes); the schedulers get their own below.
        "DEFAULT": {"host": f"chaos-{dep_name[3:]}"},
        "fake_hva": {"spawn_delay": SPAWN_DELAY, "state_file": state("hva")},
        "fake_sta": {"state_file": state("sta")},
        "fake_nsa": {"state_file": state("nsa")},
        "quota": {
            "instances": 500,
            "vcpus": 1000,
            "memory_mb": 10_000_000,
            "volumes": 500,
            "storage_gb": 100_000,
        },
    }


@contextlib.contextmanager
def running(prefix: str, rabbit, mariadb, tmp_path_factory, cleanup=None):
    """A ChaosDeployment named `prefix_<random>` on `rabbit` and `mariadb`
    with every daemon of DAEMONS started and ready; on the way out
    `cleanup()` (what the engines need back first), then the deployment
    dropped: its processes, vhost and database."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    state_dir = str(tmp_path_factory.mktemp(name))
    dep = ChaosDeployment(
        name,
        state_dir,
        api_port=free_port(),
        admin_password=ADMIN_PASSWORD,
        conf=chaos_conf(name, state_dir),
        rabbit=rabbit,
        mariadb=mariadb,
    )
    try:
        dep.prepare()
        for role, daemon in DAEMONS:
            overlay = (
                {"DEFAULT": {"host": daemon}} if role == "scheduler" else None
            )
            dep.start(role, daemon, overlay)
        dep.wait_ready(120, hypervisors=1)
        yield dep
    finally:
        try:
            if cleanup is not None:
                cleanup()
        finally:
            dep.down(drop=True)
