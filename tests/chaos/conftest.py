"""The chaos suite: a deployment on the real RabbitMQ and MariaDB, every
daemon its own process, two schedulers, and the fake drivers with their
state in files (so that what a SIGKILLed agent held survives it, as a real
hypervisor's guests do) and a spawn that takes as long as a small boot.

Recovery runs on the defaults: nothing here shortens leases, sweeps,
heartbeats or deadlines, because the point is that the shipped settings
recover within the suite's patience. Only the quotas are raised, so that
a burst is never refused for them.
"""

import uuid

import pytest

from arame.deploy import infra
from tests.chaos.deployment import (
    ADMIN_PASSWORD,
    DAEMONS,
    ChaosDeployment,
    chaos_conf,
)
from tests.helpers.ports import free_port


@pytest.fixture(scope="session")
def infrastructure():
    rabbit, mariadb = infra.RabbitMQ(), infra.MariaDB()
    rabbit.ensure_running()
    mariadb.ensure_running()
    return rabbit, mariadb


@pytest.fixture
def chaos_deployment(infrastructure, tmp_path_factory):
    """A running ChaosDeployment (DAEMONS), dropped afterwards: its
    processes stopped, its vhost and database removed."""
    rabbit, mariadb = infrastructure
    name = "cx_" + uuid.uuid4().hex[:8]
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
        # A fault test may leave the broker or the database restarting:
        # the teardown needs both.
        rabbit.ensure_running()
        mariadb.ensure_running()
        dep.down(drop=True)
