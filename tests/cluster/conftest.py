"""The clustered-engine tests (issue 13): Arame on a 3-node RabbitMQ cluster
(this file) and on MariaDB Galera behind HAProxy (H3's fixtures), each
engine losing a node mid-burst.

The cluster is this run's own: node names with the test process's pid,
ports nobody listens on, data under /tmp, wiped at the end. The machine's
own broker (5672) and MariaDB keep serving the other suites.
"""

import os
import shutil
import tempfile

import pytest

from arame.deploy import infra
from arame.deploy.infra.commands import port_open
from arame.deploy.infra.rabbit_cluster import RabbitCluster
from tests.chaos.deployment import running

RABBIT_NODES = 3
PORT_RANGE = range(5711, 5800)  # past the lab's cluster (5701..)


def _free_ports(n: int) -> int:
    """A first AMQP port whose `n` successors, and their distribution
    ports (+20000), nobody listens on."""
    for first in PORT_RANGE:
        ports = [first + i for i in range(n)]
        ports += [p + 20000 for p in ports]
        if not any(port_open("127.0.0.1", p) for p in ports):
            return first
    raise RuntimeError(f"no {n} free RabbitMQ ports in {PORT_RANGE}")


# Module scope: stopped after its test, not kept (with its health checks
# and replication) through the rest of the suite.
@pytest.fixture(scope="module")
def rabbit_cluster():
    """A running 3-node RabbitMQ cluster, stopped and wiped at the end."""
    # The nodes run as the rabbitmq user: their directory must be one it
    # can reach (pytest's tmp dirs are root's alone).
    base = tempfile.mkdtemp(prefix="arame-rmq-cluster-", dir="/tmp")
    os.chmod(base, 0o755)
    cluster = RabbitCluster(
        base,
        nodes=RABBIT_NODES,
        first_port=_free_ports(RABBIT_NODES),
        prefix=f"arame-ct{os.getpid()}-",
    )
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop(wipe=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def mariadb():
    db = infra.MariaDB()
    db.ensure_running()
    return db


@pytest.fixture
def cluster_deployment(rabbit_cluster, mariadb, tmp_path_factory):
    """The chaos suite's deployment (two schedulers, fake drivers keeping
    their state in files, a spawn as long as a small boot, the shipped
    recovery settings) on the RabbitMQ cluster; dropped afterwards."""
    # A test that failed may leave a node down: back first, or the
    # vhost's queues with a member there cannot be deleted.
    with running(
        "cl", rabbit_cluster, mariadb, tmp_path_factory, rabbit_cluster.start
    ) as dep:
        yield dep
