"""The clustered engines of issue 13 for the control-plane benchmark: a
3-node RabbitMQ cluster (every daemon given the three URLs, every queue a
quorum queue) and a 3-node Galera cluster behind HAProxy, both the run's
own, started before its deployment and stopped (data wiped) after it.

Ports are looked for in ranges of their own, clear of `tools/lab up --ha`
(5761-5763, 3340-3343) and of tests/cluster (5711.., 3411..): brokers
from 5811 (distribution ports +20000), Galera from 3511 (HAProxy one
below, health checks +6000, group communication +1256). A range is taken
only if nobody listens on any of its ports.

If the bench is SIGKILLed, the nodes outlive it: their directory is
logged at start (`<dir>/rabbit/<node>/rabbit.pid`, `<dir>/galera/node*/
mysqld.pid`, `haproxy/haproxy.pid`, `check.pid`); a later run picks other
ports, so a leftover only costs memory until it is stopped.
"""

import json
import os
import shutil
import tempfile
import time

from arame.deploy.infra.commands import port_open
from arame.deploy.infra.galera import GaleraCluster
from arame.deploy.infra.rabbit_cluster import RabbitCluster

from .resources import CPUMeter

NODES = 3
RABBIT_PORTS = range(5811, 5900)
GALERA_PORTS = range(3511, 3600, 10)


def _taken(ports) -> bool:
    return any(port_open("127.0.0.1", p) for p in ports)


def rabbit_first_port(n: int = NODES) -> int:
    for first in RABBIT_PORTS:
        ports = [first + i for i in range(n)]
        if not _taken(ports + [p + 20000 for p in ports]):
            return first
    raise RuntimeError(f"no {n} free RabbitMQ ports in {RABBIT_PORTS}")


def galera_ports(first: int, n: int = NODES) -> list[int]:
    """Every port a Galera cluster starting at `first` listens on."""
    out = [first - 1]  # HAProxy
    for i in range(n):
        gcomm = first + 1256 + 10 * i
        out += [first + i, first + 6000 + i, gcomm, gcomm + 1, gcomm + 2]
    return out


def galera_first_port(n: int = NODES) -> int:
    for first in GALERA_PORTS:
        if not _taken(galera_ports(first, n)):
            return first
    raise RuntimeError(f"no free Galera ports from {GALERA_PORTS}")


class ClusterEngines:
    """Both clusters: `rabbit` and `mariadb` are what LocalDeployment
    takes once start() has returned."""

    def __init__(self, name: str):
        # The nodes run as rabbitmq and mysql: their directory must let
        # them through (mkdtemp makes it root's alone).
        self.dir = tempfile.mkdtemp(
            prefix=f"arame-{name}-engines-", dir="/tmp"
        )
        os.chmod(self.dir, 0o755)
        self.rabbit_cluster = RabbitCluster(
            os.path.join(self.dir, "rabbit"),
            nodes=NODES,
            first_port=rabbit_first_port(),
            prefix=f"arame-{name.replace('_', '-')}-",
        )
        self.galera = GaleraCluster(
            os.path.join(self.dir, "galera"),
            nodes=NODES,
            first_port=galera_first_port(),
        )
        self.rabbit = self.rabbit_cluster
        self.mariadb = self.galera.mariadb()

    def describe(self) -> dict:
        return {
            "dir": self.dir,
            "rabbit_nodes": {
                n: self.rabbit_cluster.port_of(n)
                for n in self.rabbit_cluster.nodes
            },
            "galera_first_port": self.galera.first_port,
            "haproxy_port": self.galera.proxy_port,
        }

    def start(self) -> None:
        # Brokers first: Galera's start waits on health checks and HAProxy,
        # the brokers on their own boot; one then the other keeps the two
        # cores to one engine at a time.
        self.rabbit_cluster.start()
        self.galera.start()

    def stop(self) -> list[str]:
        """Everything stopped and wiped, each engine tried even if the
        other fails; returns the errors met."""
        errors = []
        for what, stop in (
            ("galera", self.galera.stop),
            ("rabbit", lambda: self.rabbit_cluster.stop(wipe=True)),
        ):
            try:
                stop()
            except Exception as e:
                errors.append(f"{what}: {type(e).__name__}: {e}")
        if not errors:
            shutil.rmtree(self.dir, ignore_errors=True)
        return errors

    def pids(self) -> dict[int, str]:
        """{pid: label} of every process of the engines, for the CPU meter:
        the three brokers, the three mariadbd, HAProxy and the Galera
        health check daemon."""
        out = {}
        for i, name in enumerate(self.rabbit_cluster.nodes, 1):
            pid = self.rabbit_cluster.node(name).pid()
            if pid is not None:
                out[pid] = f"beam.smp (rabbit{i})"
        for name in self.galera.nodes:
            pid = self.galera.node(name).pid()
            if pid is not None:
                out[pid] = f"mariadbd ({name})"
        pid = self.galera.proxy.pid()
        if pid is not None:
            out[pid] = "haproxy"
        pid = self.galera._check_pid()
        if pid is not None:
            out[pid] = "galera_check"
        return out

    def queue_members(self, vhost: str) -> dict:
        """How the deployment's queues are spread: {type: count} and how
        many quorum queues have a member on every node."""
        first = self.rabbit_cluster.node(self.rabbit_cluster.nodes[0])
        out = first.ctl(
            "list_queues",
            "-p",
            vhost,
            "name",
            "type",
            "members",
            "--formatter",
            "json",
            check=False,
        )
        try:
            rows = json.loads(out.stdout)
        except ValueError:
            return {"error": (out.stderr or out.stdout).strip()[:300]}
        types: dict[str, int] = {}
        full = 0
        for r in rows:
            types[r.get("type", "?")] = types.get(r.get("type", "?"), 0) + 1
            if len(r.get("members") or []) == NODES:
                full += 1
        return {"queues": len(rows), "by_type": types, "on_every_node": full}


class EnginesCPUMeter(CPUMeter):
    """The daemons, every process of the engines and the load generator:
    CPUMeter's servers found by port would be node 1 and HAProxy only."""

    def __init__(self, dep, engines: ClusterEngines):
        self.procs = {d.pid: name for name, d in dep.daemons.items()}
        self.procs.update(engines.pids())
        self.procs[os.getpid()] = "bench (load generator)"


def idle_cpu(meter: CPUMeter, seconds: float) -> dict:
    """What each process costs with no cycle running: a deployment and its
    engines keep busy (heartbeats, health checks, Raft and Galera
    keepalives) whatever the load, and that share of the busy machine is
    not in the per-cycle figures' difference alone."""
    meter.start()
    time.sleep(seconds)  # a measuring window, not a wait for a condition
    return meter.stop()
