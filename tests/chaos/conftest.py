"""The chaos suite: a deployment on the real RabbitMQ and MariaDB, every
daemon its own process, two schedulers, and the fake drivers with their
state in files (so that what a SIGKILLed agent held survives it, as a real
hypervisor's guests do) and a spawn that takes as long as a small boot.

Recovery runs on the defaults: nothing here shortens leases, sweeps,
heartbeats or deadlines, because the point is that the shipped settings
recover within the suite's patience. Only the quotas are raised, so that
a burst is never refused for them.
"""

import pytest

from arame.deploy import infra
from tests.chaos.deployment import running


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

    def engines_back():
        # A fault test may leave the broker or the database restarting:
        # the teardown needs both.
        rabbit.ensure_running()
        mariadb.ensure_running()

    with running("cx", rabbit, mariadb, tmp_path_factory, engines_back) as dep:
        yield dep
