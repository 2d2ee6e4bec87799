"""The host's RabbitMQ broker: started if nothing answers, a vhost per
deployment."""

import os
import subprocess
import urllib.parse

from arame.common.waiting import wait_for
from arame.deploy.infra.commands import port_open, require, run


def _raise_nofile() -> None:
    """Every RPC server holds a connection (an hva of many fake hosts, a
    thousand): start the broker with the hard file limit, not the usual
    1,024 soft one, which leaves it some 800 sockets."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 65536
    resource.setrlimit(
        resource.RLIMIT_NOFILE, (max(soft, min(target, 65536)), hard)
    )


# Debian's /usr/sbin/rabbitmq-server starts the broker through `su rabbitmq`,
# and PAM puts the soft file limit back to 1,024 there. As root we do what
# that wrapper does for the rabbitmq user ourselves, after raising the limit.
_DEBIAN_BROKER = "/usr/lib/rabbitmq/bin/rabbitmq-server"


def broker_launch(extra_env: dict | None = None):
    """-> (args, preexec_fn, env, cwd) that start a broker; `extra_env`
    names a node of its own (RABBITMQ_NODENAME, ports, dirs:
    rabbit_cluster.py)."""
    if os.getuid() == 0 and os.path.exists(_DEBIAN_BROKER):
        import pwd

        user = pwd.getpwnam("rabbitmq")

        def become_rabbitmq():
            _raise_nofile()
            os.setgid(user.pw_gid)
            os.initgroups(user.pw_name, user.pw_gid)
            os.setuid(user.pw_uid)

        env = dict(
            os.environ,
            HOME=user.pw_dir,
            USER=user.pw_name,
            LOGNAME=user.pw_name,
            **(extra_env or {}),
        )
        return [_DEBIAN_BROKER], become_rabbitmq, env, user.pw_dir
    return (
        [require("rabbitmq-server", "rabbitmq-server")],
        _raise_nofile,
        dict(os.environ, **extra_env) if extra_env else None,
        None,
    )


def broker_user() -> tuple[int, int] | None:
    """(uid, gid) the broker runs as when started by root (its data
    directories must be its own), None when it runs as us."""
    if os.getuid() == 0 and os.path.exists(_DEBIAN_BROKER):
        import pwd

        user = pwd.getpwnam("rabbitmq")
        return user.pw_uid, user.pw_gid
    return None


def ctl() -> str:
    return require("rabbitmqctl", "rabbitmq-server")


class RabbitMQ:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5672,
        user: str = "guest",
        password: str = "guest",
    ):
        self.host, self.port = host, port
        self.user, self.password = user, password

    def running(self) -> bool:
        return port_open(self.host, self.port)

    def ensure_running(
        self, log_path: str = "/tmp/arame-rabbitmq.log", timeout: float = 90
    ) -> bool:
        """Start the broker if nothing answers; True if we started it."""
        if self.running():
            return False
        args, preexec, env, cwd = broker_launch()
        with open(log_path, "ab") as log:
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
        # `await_startup` fails at once while the node is not registered yet
        # (the first seconds after launch), so first wait for the listener,
        # which opens late in the boot, then let rabbitmqctl confirm it.
        wait_for(self.running, timeout, "RabbitMQ to accept connections")
        run(
            [ctl(), "await_startup", "--timeout", str(int(timeout))],
            timeout=timeout + 10,
        )
        return True

    def create_vhost(self, vhost: str) -> None:
        rabbitmqctl = ctl()
        run([rabbitmqctl, "add_vhost", vhost], check=False)
        run(
            [
                rabbitmqctl,
                "set_permissions",
                "-p",
                vhost,
                self.user,
                ".*",
                ".*",
                ".*",
            ]
        )

    def delete_vhost(self, vhost: str) -> None:
        run([ctl(), "delete_vhost", vhost], check=False)

    def url(self, vhost: str) -> str:
        q = lambda s: urllib.parse.quote(s, safe="")  # noqa: E731
        return (
            f"rabbit://{q(self.user)}:{q(self.password)}@{self.host}:"
            f"{self.port}/{q(vhost)}"
        )

    @staticmethod
    def messaging_options() -> dict:
        """arame.conf options a deployment on this broker needs beyond our
        defaults: none for one node (a cluster has some,
        rabbit_cluster.py)."""
        return {}

    def restart(self, timeout: float = 90) -> None:
        """Stop and start the broker (fault tests)."""
        rabbitmqctl = ctl()
        run([rabbitmqctl, "stop_app"], timeout=timeout)
        run([rabbitmqctl, "start_app"], timeout=timeout)
        wait_for(self.running, timeout, "RabbitMQ to come back")
