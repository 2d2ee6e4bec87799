"""RabbitMQ as the bench sees it: a node of the bench's own, the sockets a
node has left, and which RPC queues have a consumer."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import urllib.parse

from arame.common import waiting
from arame.deploy import infra

from .ports import free_port


def write_bus_conf(path: str, transport_url: str, log_file: str) -> None:
    """A config file for a bench process of its own on the bus (the
    broker's credentials are in the URL: readable by root only)."""
    with open(path, "w") as f:
        f.write(
            "[DEFAULT]\n"
            f"transport_url = {transport_url}\n"
            f"log_file = {log_file}\n"
        )
    os.chmod(path, 0o600)


def rabbitmqctl() -> str:
    return shutil.which("rabbitmqctl") or "rabbitmqctl"


def broker_sockets(node: str | None = None) -> dict | None:
    """{'sockets_limit': .., 'sockets_used': ..} of a running node."""
    args = (
        [rabbitmqctl()]
        + (["-n", node] if node else [])
        + ["-q", "status", "--formatter", "json"]
    )
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=60)
        return json.loads(out.stdout).get("file_descriptors")
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None


class PrivateRabbitMQ(infra.RabbitMQ):
    """A RabbitMQ node started by the bench for itself: its own AMQP and
    distribution ports, mnesia and log directories under /tmp, and a file
    limit high enough for one AMQP connection per fake host (the machine's
    node inherits `ulimit -n` 1024, i.e. 832 sockets). Run as the rabbitmq
    user so that rabbitmqctl (which su's to it) shares its Erlang cookie."""

    def __init__(self, name: str, nofile: int = 20000):
        super().__init__(port=free_port())
        self.dist_port = free_port()
        self.node = f"{name}@{socket.gethostname().split('.')[0]}"
        self.nofile = nofile
        self.dir = tempfile.mkdtemp(prefix=f"arame-{name}-rabbit-", dir="/tmp")
        self.proc: subprocess.Popen | None = None

    def _ctl(self, *args, timeout: float = 60, check: bool = True):
        return infra._run(
            [rabbitmqctl(), "-n", self.node, *args],
            timeout=timeout,
            check=check,
        )

    def ensure_running(
        self, log_path: str | None = None, timeout: float = 120
    ) -> bool:
        if self.proc is not None and self.proc.poll() is None:
            return False
        import pwd
        import resource

        pw = pwd.getpwnam("rabbitmq")
        for sub in ("mnesia", "log"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        with open(os.path.join(self.dir, "enabled_plugins"), "w") as f:
            f.write("[].\n")
        for root, dirs, files in os.walk(self.dir):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.chown(n, pw.pw_uid, pw.pw_gid)
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "HOME": pw.pw_dir,
            "LANG": "C.UTF-8",
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": os.path.join(self.dir, "mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(self.dir, "log"),
            "RABBITMQ_PID_FILE": os.path.join(self.dir, "rabbit.pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(
                self.dir, "enabled_plugins"
            ),
            "RABBITMQ_CONFIG_FILE": os.path.join(self.dir, "rabbitmq"),
        }
        nofile = self.nofile

        def demote():
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            lim = (
                nofile if hard == resource.RLIM_INFINITY else min(nofile, hard)
            )
            resource.setrlimit(resource.RLIMIT_NOFILE, (lim, lim))
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)

        server = "/usr/lib/rabbitmq/bin/rabbitmq-server"
        if not os.path.exists(server):
            server = shutil.which("rabbitmq-server") or server
        with open(os.path.join(self.dir, "startup.log"), "ab") as out:
            self.proc = subprocess.Popen(
                [server],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.dir,
                preexec_fn=demote,
                start_new_session=True,
            )
        waiting.wait_for(
            lambda: self.proc.poll() is not None or self.running(),
            timeout,
            f"RabbitMQ node {self.node}",
        )
        if self.proc.poll() is not None:
            raise infra.InfraError(
                f"RabbitMQ node {self.node} exited; see {self.dir}/startup.log"
            )
        self._ctl(
            "await_startup",
            "--timeout",
            str(int(timeout)),
            timeout=timeout + 10,
        )
        return True

    def create_vhost(self, vhost: str) -> None:
        self._ctl("add_vhost", vhost, check=False)
        self._ctl("set_permissions", "-p", vhost, self.user, ".*", ".*", ".*")

    def delete_vhost(self, vhost: str) -> None:
        self._ctl("delete_vhost", vhost, check=False)

    def beam_pid(self) -> int | None:
        try:
            with open(os.path.join(self.dir, "rabbit.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self._ctl("stop", timeout=90, check=False)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
        if self.proc.poll() is None:
            try:  # our own session only
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def amqp_params(rabbit: infra.RabbitMQ, vhost: str):
    import pika

    url = (
        f"amqp://{rabbit.user}:{rabbit.password}@{rabbit.host}:{rabbit.port}/"
        f"{urllib.parse.quote(vhost, safe='')}"
    )
    params = pika.URLParameters(url)
    params.socket_timeout = 30
    params.blocked_connection_timeout = 60
    return params


def rpc_queues_with_consumers(
    rabbit: infra.RabbitMQ, vhost: str, queues: list[str]
) -> int:
    """How many of `queues` exist and have a consumer (passive declares)."""
    import pika

    try:
        conn = pika.BlockingConnection(amqp_params(rabbit, vhost))
    except pika.exceptions.AMQPError:
        return 0
    ready = 0
    try:
        ch = conn.channel()
        for q in queues:
            try:
                if ch.queue_declare(q, passive=True).method.consumer_count > 0:
                    ready += 1
            except pika.exceptions.ChannelClosedByBroker:  # 404: not yet
                ch = conn.channel()
    except pika.exceptions.AMQPError:
        pass
    finally:
        try:
            conn.close()
        except Exception:
            pass
    return ready


def check_room(fds: dict | None, args) -> None:
    """Refuse (SystemExit) a deployment whose fake hosts would not fit in
    the sockets the broker has free."""
    # Each fake host holds one AMQP connection (one oslo.messaging RPC
    # server each); past the broker's socket limit it stops accepting
    # connections for everyone on it. Refuse rather than jam it.
    if not fds:
        return
    need = (
        args.hosts
        + 4 * (args.schedulers + args.collectors + args.hva_procs)
        + 40
    )
    free = fds["sockets_limit"] - fds["sockets_used"]
    if need > free:
        raise SystemExit(
            f"{args.hosts} fake hosts need about {need} AMQP "
            f"connections; the broker has {free} sockets free of "
            f"{fds['sockets_limit']} (its `ulimit -n`). Use "
            "--private-rabbit (a node of the bench's own with a "
            "higher file limit) or fewer hosts."
        )
