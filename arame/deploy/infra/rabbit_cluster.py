"""A RabbitMQ cluster of three nodes on this machine, for `tools/lab up
--ha` and the failover tests (tests/cluster/).

Each node is Debian's broker started under a name of its own
(`<prefix><n>@localhost`), with its own AMQP and distribution ports and its
own mnesia and log directories under `base_dir`; the management plugin is
off. Nodes 2.. join node 1. The machine's own broker (rabbit@<host>, 5672)
is never touched: nothing here names it.

Queues survive the loss of a node because Arame declares them as quorum
queues (arame.common.conf.messaging); `messaging_options()` adds what a
cluster needs on top (reply and fanout queues replicated too), and
`LocalDeployment(rabbit=cluster)` writes both into arame.conf.
"""

import json
import os
import signal
import subprocess
import urllib.parse
from concurrent import futures

from arame.common.waiting import wait_for
from arame.deploy.infra.commands import InfraError, port_open, run
from arame.deploy.infra.rabbitmq import broker_launch, broker_user, ctl

HOST = "127.0.0.1"
# Erlang schedulers spinning while idle cost three nodes a core on a small
# machine; the distribution port listens on loopback only, like AMQP.
_ERL_ARGS = (
    "+sbwt none +sbwtdcpu none +sbwtdio none "
    "-kernel inet_dist_use_interface {127,0,0,1}"
)


class RabbitNode:
    """One broker of the cluster: started, stopped, killed by its pid."""

    def __init__(self, name: str, port: int, base_dir: str):
        self.name = name  # the Erlang node name, short@localhost
        self.port = port
        self.dist_port = port + 20000
        self.dir = os.path.join(base_dir, name.split("@")[0])

    def ctl(self, *args: str, timeout: float = 60, check: bool = True):
        return run(
            [ctl(), "-n", self.name, *args], timeout=timeout, check=check
        )

    def listening(self) -> bool:
        return port_open(HOST, self.port)

    @property
    def pid_file(self) -> str:
        return os.path.join(self.dir, "rabbit.pid")

    def pid(self) -> int | None:
        """The node's beam process (the node writes its pid file)."""
        try:
            with open(self.pid_file) as f:
                pid = int(f.read().strip())
            with open(f"/proc/{pid}/stat") as f:
                # A zombie has died: its parent (maybe us) has yet to reap
                # it.
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, ValueError, IndexError):
            return None
        if state != "Z":
            return pid
        try:
            os.waitpid(pid, os.WNOHANG)  # ours: reap it
        except ChildProcessError:
            pass
        return None

    def _env(self) -> dict:
        d = self.dir
        return {
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": HOST,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": os.path.join(d, "mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(d, "log"),
            "RABBITMQ_PID_FILE": self.pid_file,
            "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(d, "plugins"),
            "RABBITMQ_PLUGINS_EXPAND_DIR": os.path.join(d, "plugins-expand"),
            # No file there: the defaults, not /etc/rabbitmq's.
            "RABBITMQ_CONFIG_FILE": os.path.join(d, "rabbitmq"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": _ERL_ARGS,
        }

    def _prepare_dirs(self) -> None:
        for sub in ("mnesia", "log"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        plugins = os.path.join(self.dir, "plugins")
        if not os.path.exists(plugins):
            with open(plugins, "w") as f:
                f.write("[].\n")  # no management plugin, no other
        owner = broker_user()
        if owner is not None:  # started as root, it runs as rabbitmq
            for root, dirs, files in os.walk(self.dir):
                for n in [
                    root,
                    *(os.path.join(root, x) for x in dirs + files),
                ]:
                    os.chown(n, *owner)

    def launch(self) -> None:
        """Start the node in the background (ready later: wait_started)."""
        self._prepare_dirs()
        args, preexec, env, cwd = broker_launch(self._env())
        with open(os.path.join(self.dir, "startup.log"), "ab") as log:
            subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=preexec,
                env=env,
                cwd=cwd,
            )

    def wait_started(self, timeout: float) -> None:
        # The listener opens late in the boot; await_startup then confirms
        # (it fails at once while the node is not registered with epmd).
        wait_for(self.listening, timeout, f"RabbitMQ node {self.name}")
        self.ctl(
            "await_startup",
            "--timeout",
            str(int(timeout)),
            timeout=timeout + 10,
        )

    def kill(self) -> int:
        """SIGKILL the node (a crash, not a stop); its pid."""
        pid = self.pid()
        if pid is None:
            raise InfraError(f"{self.name} is not running")
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: self.pid() is None, 30, f"{self.name} to die")
        return pid

    def stop(self, timeout: float = 60) -> None:
        if self.pid() is None:
            return
        self.ctl("stop", self.pid_file, timeout=timeout, check=False)
        if self.pid() is not None:
            self.kill()


class RabbitCluster:
    """`nodes` brokers on ports first_port.., joined into one cluster.

    start() reuses a cluster that runs already (and starts only the nodes
    of it that are down); stop() stops every node, leaving their data
    (wipe=True removes it).
    """

    def __init__(
        self,
        base_dir: str,
        nodes: int = 3,
        first_port: int = 5701,
        *,
        prefix: str = "arame-rmq",
        user: str = "guest",
        password: str = "guest",
    ):
        if nodes < 1:
            raise ValueError("a cluster has at least one node")
        self.base_dir = os.path.abspath(base_dir)
        self.user, self.password = user, password
        self._nodes = [
            RabbitNode(f"{prefix}{i + 1}@localhost", first_port + i, base_dir)
            for i in range(nodes)
        ]
        # LocalDeployment's RabbitMQ interface: the first node's address.
        self.host, self.port = HOST, first_port

    # -- names and addresses ---------------------------------------------
    @property
    def nodes(self) -> list[str]:
        return [n.name for n in self._nodes]

    def node(self, name: str) -> RabbitNode:
        for n in self._nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def port_of(self, name: str) -> int:
        return self.node(name).port

    def transport_url(self, vhost: str) -> str:
        """rabbit://u:p@h:p1,u:p@h:p2,.../vhost: a daemon connects to the
        first that answers and fails over along the list."""
        q = lambda s: urllib.parse.quote(s, safe="")  # noqa: E731
        cred = f"{q(self.user)}:{q(self.password)}"
        hosts = ",".join(f"{cred}@{HOST}:{n.port}" for n in self._nodes)
        return f"rabbit://{hosts}/{q(vhost)}"

    url = transport_url  # LocalDeployment's name for it

    @staticmethod
    def messaging_options() -> dict:
        """[oslo_messaging_rabbit] for daemons on the cluster. Topic queues
        are quorum queues anyway (our default); here the reply and fanout
        queues become quorum queues too, so a call in flight keeps its
        reply queue when the node holding it dies."""
        return {
            "oslo_messaging_rabbit": {
                "rabbit_quorum_queue": True,
                "rabbit_transient_quorum_queue": True,
            }
        }

    # -- life -------------------------------------------------------------
    def running_nodes(self) -> set[str]:
        """The nodes a running member counts as running in the cluster."""
        for n in self._nodes:
            if not n.listening():
                continue
            out = n.ctl("cluster_status", "--formatter", "json", check=False)
            if out.returncode == 0:
                try:
                    return set(json.loads(out.stdout)["running_nodes"])
                except (ValueError, KeyError):
                    continue
        return set()

    def start(self, timeout: float = 180) -> bool:
        """All nodes up and clustered; True if anything was started."""
        down = [n for n in self._nodes if not n.listening()]
        if not down and self.running_nodes() == set(self.nodes):
            return False
        os.makedirs(self.base_dir, mode=0o755, exist_ok=True)
        self._check_reachable()
        fresh = {
            n.name
            for n in self._nodes
            if not os.path.isdir(os.path.join(n.dir, "mnesia", n.name))
        }
        for n in down:
            n.launch()
        # Nodes that were clustered before wait for each other at boot
        # (mnesia's tables), so they come up together, not one by one.
        with futures.ThreadPoolExecutor(len(down) or 1) as pool:
            for f in [pool.submit(n.wait_started, timeout) for n in down]:
                f.result()
        first = self._nodes[0]
        for n in self._nodes[1:]:
            if n.name in fresh:
                self._join(n, first, timeout)
        wait_for(
            lambda: self.running_nodes() == set(self.nodes),
            timeout,
            f"RabbitMQ nodes {', '.join(self.nodes)} to form one cluster",
            interval=0.5,
        )
        return True

    def _check_reachable(self) -> None:
        """Started by root, the nodes run as the rabbitmq user: every
        directory above base_dir must let others through (pytest's and
        mkdtemp's directories are root's alone)."""
        if broker_user() is None:
            return
        path = self.base_dir
        while path != "/":
            if not os.stat(path).st_mode & 0o001:
                raise InfraError(
                    f"{path} is closed to the rabbitmq user the nodes run "
                    f"as; put the cluster's base_dir elsewhere or chmod "
                    f"o+x {path}"
                )
            path = os.path.dirname(path)

    @staticmethod
    def _join(node: RabbitNode, seed: RabbitNode, timeout: float) -> None:
        node.ctl("stop_app", timeout=timeout)
        node.ctl("join_cluster", seed.name, timeout=timeout)
        node.ctl("start_app", timeout=timeout)

    def stop(self, wipe: bool = False) -> None:
        # In reverse: the first node stops last, so it holds the newest
        # tables and a later start() boots it without waiting on others.
        for n in reversed(self._nodes):
            n.stop()
        if wipe:
            import shutil

            shutil.rmtree(self.base_dir, ignore_errors=True)

    def kill(self, name: str) -> int:
        """SIGKILL one node (its pid)."""
        return self.node(name).kill()

    def restart(self, name: str, timeout: float = 120) -> None:
        """Start a killed or stopped node; it rejoins from its own data."""
        n = self.node(name)
        if n.pid() is None:
            n.launch()
        n.wait_started(timeout)
        wait_for(
            lambda: name in self.running_nodes(),
            timeout,
            f"{name} to rejoin the cluster",
            interval=0.5,
        )

    # -- LocalDeployment's broker interface -------------------------------
    def ensure_running(self, timeout: float = 180) -> bool:
        return self.start(timeout)

    def running(self) -> bool:
        return any(n.listening() for n in self._nodes)

    def _ctl_any(self, *args: str, check: bool = True):
        """rabbitmqctl on a running node (definitions are cluster-wide)."""
        for n in self._nodes:
            if n.listening():
                return n.ctl(*args, check=check)
        raise InfraError("no RabbitMQ node of the cluster is running")

    def create_vhost(self, vhost: str) -> None:
        self._ctl_any("add_vhost", vhost, check=False)
        self._ctl_any(
            "set_permissions", "-p", vhost, self.user, ".*", ".*", ".*"
        )

    def delete_vhost(self, vhost: str) -> None:
        self._ctl_any("delete_vhost", vhost, check=False)

    # -- who is connected where ------------------------------------------
    def nodes_of_process(self, pid: int) -> dict[str, int]:
        """{node: number of AMQP connections} the process `pid` holds to
        this cluster, from its own sockets (works while a node is down)."""
        import psutil

        by_port = {n.port: n.name for n in self._nodes}
        out: dict[str, int] = {}
        for c in psutil.Process(pid).net_connections(kind="tcp"):
            if (
                c.raddr
                and c.raddr.port in by_port
                and c.status == psutil.CONN_ESTABLISHED
            ):
                name = by_port[c.raddr.port]
                out[name] = out.get(name, 0) + 1
        return out

    def node_of_connection(self, pid: int) -> str | None:
        """The node most of `pid`'s connections go to (None: none)."""
        counts = self.nodes_of_process(pid)
        return max(counts, key=counts.get) if counts else None
