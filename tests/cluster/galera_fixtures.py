"""H3's fixtures for the Galera test: this run's own 3-node cluster behind
HAProxy (ports nobody listens on, data under /tmp, wiped at the end) and
the chaos suite's deployment on it. The machine's own MariaDB (3306) is
not touched.

Imported by test_galera_failover.py (`from tests.cluster.galera_fixtures
import *`-free: it names the fixtures it uses).
"""

import os
import shutil
import tempfile

import pytest

from arame.deploy import infra
from arame.deploy.infra.commands import port_open
from arame.deploy.infra.galera import GaleraCluster
from tests.chaos.deployment import running

GALERA_NODES = 3
# Past the lab's cluster (3310..3313); each candidate also needs its
# Galera (+1256..), health check (+6000) and HAProxy (-1) ports free.
FIRST_PORTS = range(3411, 3500, 10)


def _ports(first: int, n: int) -> list[int]:
    out = [first - 1]
    for i in range(n):
        gcomm = first + 1256 + 10 * i
        out += [first + i, first + 6000 + i, gcomm, gcomm + 1, gcomm + 2]
    return out


def _free_first_port(n: int) -> int:
    for first in FIRST_PORTS:
        if not any(port_open("127.0.0.1", p) for p in _ports(first, n)):
            return first
    raise RuntimeError(f"no free Galera ports from {FIRST_PORTS}")


# Module scope: stopped after its test, not kept (with its health checks
# and replication) through the rest of the suite.
@pytest.fixture(scope="module")
def galera_cluster():
    """A running 3-node Galera cluster behind HAProxy, stopped and wiped
    at the end."""
    # The nodes run as mysql: their directory must be one it can reach.
    base = tempfile.mkdtemp(prefix="arame-galera-", dir="/tmp")
    os.chmod(base, 0o755)
    cluster = GaleraCluster(
        base, nodes=GALERA_NODES, first_port=_free_first_port(GALERA_NODES)
    )
    try:
        cluster.start()
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def galera_rabbit():
    rabbit = infra.RabbitMQ()
    rabbit.ensure_running()
    return rabbit


@pytest.fixture
def galera_deployment(galera_cluster, galera_rabbit, tmp_path_factory):
    """The chaos suite's deployment (two schedulers, fake drivers, a spawn
    as long as a small boot) whose database is the cluster through
    HAProxy; dropped afterwards."""
    with running(
        "gl", galera_rabbit, galera_cluster.mariadb(), tmp_path_factory
    ) as dep:
        yield dep
