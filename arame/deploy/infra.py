"""The machine-level services Arame needs on one host: RabbitMQ, MariaDB
and libvirtd.

Started as background processes when they are not already answering (these
machines have no systemd), and carved up per deployment: a vhost on the
broker, a database and a user on MariaDB. libvirtd runs inside the lab
network namespace, so that every tap, bridge and firewall rule of a test or
single-host guest lives there and no guest traffic reaches the host's own
network.
"""

import os
import shutil
import socket
import subprocess
import urllib.parse

from arame.common import runner
from arame.common.waiting import wait_for

MYSQL_SOCKET = "/run/mysqld/mysqld.sock"


class InfraError(RuntimeError):
    pass


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _run(args: list[str], timeout: float = 60, check: bool = True):
    proc = subprocess.run(
        args, capture_output=True, text=True, timeout=timeout
    )
    if check and proc.returncode != 0:
        raise InfraError(
            f"{' '.join(args)} failed ({proc.returncode}): "
            f"{proc.stderr.strip() or proc.stdout.strip()}"
        )
    return proc


def _require(binary: str, package: str) -> str:
    path = shutil.which(binary)
    if path is None:
        raise InfraError(
            f"{binary} is not installed (apt-get install {package})"
        )
    return path


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


def _broker_launch():
    """-> (args, preexec_fn, env, cwd) that start the broker."""
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
        )
        return [_DEBIAN_BROKER], become_rabbitmq, env, user.pw_dir
    return (
        [_require("rabbitmq-server", "rabbitmq-server")],
        _raise_nofile,
        None,
        None,
    )


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
        args, preexec, env, cwd = _broker_launch()
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
        _run(
            [
                _require("rabbitmqctl", "rabbitmq-server"),
                "await_startup",
                "--timeout",
                str(int(timeout)),
            ],
            timeout=timeout + 10,
        )
        return True

    def create_vhost(self, vhost: str) -> None:
        ctl = _require("rabbitmqctl", "rabbitmq-server")
        _run([ctl, "add_vhost", vhost], check=False)
        _run(
            [ctl, "set_permissions", "-p", vhost, self.user, ".*", ".*", ".*"]
        )

    def delete_vhost(self, vhost: str) -> None:
        _run(
            [
                _require("rabbitmqctl", "rabbitmq-server"),
                "delete_vhost",
                vhost,
            ],
            check=False,
        )

    def url(self, vhost: str) -> str:
        q = lambda s: urllib.parse.quote(s, safe="")  # noqa: E731
        return (
            f"rabbit://{q(self.user)}:{q(self.password)}@{self.host}:"
            f"{self.port}/{q(vhost)}"
        )

    def restart(self, timeout: float = 90) -> None:
        """Stop and start the broker (fault tests)."""
        ctl = _require("rabbitmqctl", "rabbitmq-server")
        _run([ctl, "stop_app"], timeout=timeout)
        _run([ctl, "start_app"], timeout=timeout)
        wait_for(self.running, timeout, "RabbitMQ to come back")


class MariaDB:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 3306,
        socket_path: str = MYSQL_SOCKET,
    ):
        self.host, self.port, self.socket_path = host, port, socket_path

    def _root(self):
        import pymysql

        return pymysql.connect(
            unix_socket=self.socket_path, user="root", autocommit=True
        )

    def running(self) -> bool:
        try:
            self._root().close()
            return True
        except Exception:
            return False

    def ensure_running(
        self, log_path: str = "/tmp/arame-mariadb.log", timeout: float = 60
    ) -> bool:
        if self.running():
            return False
        safe = _require("mysqld_safe", "mariadb-server")
        os.makedirs(os.path.dirname(self.socket_path), exist_ok=True)
        try:
            shutil.chown(os.path.dirname(self.socket_path), "mysql", "mysql")
        except (LookupError, PermissionError):
            pass
        with open(log_path, "ab") as log:
            subprocess.Popen(
                [safe],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        wait_for(self.running, timeout, "MariaDB to accept connections")
        return True

    def create_database(self, name: str, user: str, password: str) -> None:
        _check_sql_name(name)
        _check_sql_name(user)
        conn = self._root()
        try:
            with conn.cursor() as c:
                c.execute(
                    f"CREATE DATABASE IF NOT EXISTS `{name}` "
                    "CHARACTER SET utf8mb4"
                )
                for host in ("localhost", "127.0.0.1"):
                    c.execute(
                        f"CREATE USER IF NOT EXISTS '{user}'@'{host}' "
                        "IDENTIFIED BY %s",
                        (password,),
                    )
                    c.execute(
                        f"ALTER USER '{user}'@'{host}' IDENTIFIED BY %s",
                        (password,),
                    )
                    c.execute(f"GRANT ALL ON `{name}`.* TO '{user}'@'{host}'")
        finally:
            conn.close()

    def _execute_as_root(self, *statements: str) -> None:
        conn = self._root()
        try:
            with conn.cursor() as c:
                for stmt in statements:
                    c.execute(stmt)
        finally:
            conn.close()

    def drop_database(self, name: str) -> None:
        _check_sql_name(name)
        self._execute_as_root(f"DROP DATABASE IF EXISTS `{name}`")

    def drop_user(self, user: str) -> None:
        _check_sql_name(user)
        self._execute_as_root(
            *(
                f"DROP USER IF EXISTS '{user}'@'{host}'"
                for host in ("localhost", "127.0.0.1")
            )
        )

    def url(self, name: str, user: str, password: str) -> str:
        q = urllib.parse.quote
        return (
            f"mysql+pymysql://{q(user, safe='')}:{q(password, safe='')}@"
            f"{self.host}:{self.port}/{name}?charset=utf8mb4"
        )


LAB_NETNS = "arame-lab"
LAB_UNDERLAY = ("arame-ul0", "198.18.0.1/24")  # a benchmark-range address


def _netns_of(pid: int) -> str | None:
    """The name of the namespace process `pid` is in; "" for our own."""
    try:
        ino = os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        return None
    if ino == os.stat("/proc/self/ns/net").st_ino:
        return ""
    for name in (
        os.listdir("/run/netns") if os.path.isdir("/run/netns") else ()
    ):
        try:
            if os.stat(os.path.join("/run/netns", name)).st_ino == ino:
                return name
        except OSError:
            continue
    return None


def _pids(name: str) -> list[int]:
    out = _run(["pgrep", "-x", name], check=False).stdout.split()
    return [int(p) for p in out]


class Libvirt:
    """virtlogd and libvirtd, the latter in the lab namespace (only one
    libvirtd can run on a machine)."""

    def __init__(self, netns: str = LAB_NETNS):
        self.netns = netns

    def ensure_netns(self) -> None:
        if not os.path.exists(f"/run/netns/{self.netns}"):
            _run(["ip", "netns", "add", self.netns])
        _run(
            [
                "ip",
                "netns",
                "exec",
                self.netns,
                "ip",
                "link",
                "set",
                "lo",
                "up",
            ]
        )
        dev, addr = LAB_UNDERLAY
        have = _run(
            [
                "ip",
                "netns",
                "exec",
                self.netns,
                "ip",
                "-o",
                "link",
                "show",
                dev,
            ],
            check=False,
        )
        if have.returncode != 0:
            # A veth pair stands for the underlay NIC (this kernel has no
            # dummy devices); VXLAN ports bind to its address.
            _run(
                [
                    "ip",
                    "netns",
                    "exec",
                    self.netns,
                    "ip",
                    "link",
                    "add",
                    dev,
                    "type",
                    "veth",
                    "peer",
                    "name",
                    dev[:-1] + "1",
                ]
            )
            _run(
                [
                    "ip",
                    "netns",
                    "exec",
                    self.netns,
                    "ip",
                    "link",
                    "set",
                    dev[:-1] + "1",
                    "up",
                ]
            )
            _run(
                [
                    "ip",
                    "netns",
                    "exec",
                    self.netns,
                    "ip",
                    "addr",
                    "add",
                    addr,
                    "dev",
                    dev,
                ]
            )
        _run(
            ["ip", "netns", "exec", self.netns, "ip", "link", "set", dev, "up"]
        )

    @staticmethod
    def remove_guests(doomed) -> list[str]:
        """Destroy and undefine the domains whose XML `doomed(xml)` picks
        (a dropped deployment's, a dead test run's)."""
        virsh = ["virsh", "-c", "qemu:///system"]
        removed = []
        for dom in _run(
            virsh + ["list", "--all", "--name"], check=False
        ).stdout.split():
            if doomed(_run(virsh + ["dumpxml", dom], check=False).stdout):
                _run(virsh + ["destroy", dom], check=False)
                _run(virsh + ["undefine", "--nvram", dom], check=False)
                removed.append(dom)
        return removed

    def remove_networks(self, network_ids) -> None:
        """Tenant bridges (and their VXLAN ports) in the lab: those of the
        given networks, or (None) every one no guest is plugged into. A
        naming agent leaves its networks' bridges and addresses when it
        stops (a restart must not cut DHCP); a deployment that is dropped
        takes them along, or the next one finds the address on two bridges
        and answers through the stale one."""
        ns = ["ip", "netns", "exec", self.netns]
        links = _run(ns + ["ip", "-o", "link"], check=False).stdout
        bridges = sorted(
            {
                line.split(": ")[1].split("@")[0]
                for line in links.splitlines()
                if ": nw-" in line
            }
        )
        for br in bridges:
            if network_ids is not None and br not in network_ids:
                continue
            ports = [
                line
                for line in links.splitlines()
                if f"master {br} " in line and ": vx-" not in line
            ]
            if network_ids is None and ports:
                continue
            _run(ns + ["ip", "link", "del", f"vx-{br[3:]}"], check=False)
            _run(ns + ["ip", "link", "del", br], check=False)

    def running(self) -> bool:
        return (
            bool(_pids("libvirtd"))
            and _run(
                ["virsh", "-c", "qemu:///system", "version"],
                check=False,
                timeout=60,
            ).returncode
            == 0
        )

    def ensure_running(self, timeout: float = 60) -> bool:
        """Start what is missing; raise if libvirtd runs outside the lab."""
        _require("libvirtd", "libvirt-daemon-system")
        _require("qemu-system-x86_64", "qemu-system-x86")
        self.ensure_netns()
        if not _pids("virtlogd"):
            _run(["virtlogd", "-d"])
        pids = _pids("libvirtd")
        if pids:
            where = _netns_of(pids[0])
            if where != self.netns:
                raise InfraError(
                    f"libvirtd (pid {pids[0]}) runs in "
                    f"{'the host namespace' if where == '' else where!r}, not "
                    f"in {self.netns!r}: guests would plug into the host's "
                    f"network. Stop it; it is started again in the lab."
                )
            started = False
        else:
            for stale in ("/run/libvirtd.pid",):
                if os.path.exists(stale):
                    os.unlink(stale)
            qemu_without_mount_namespaces()
            # In the lab's network namespace only (runner.in_netns says why
            # not `ip netns exec`).
            _run(runner.in_netns(["libvirtd", "-d"], self.netns))
            started = True
        # The first call waits while libvirt probes qemu (~8 s here).
        wait_for(self.running, timeout, "libvirtd to answer")
        return started


QEMU_CONF = "/etc/libvirt/qemu.conf"


def qemu_without_mount_namespaces(path: str = QEMU_CONF) -> bool:
    """`namespaces = []` in qemu.conf, before libvirtd starts.

    By default libvirt gives every qemu a private mount namespace, a copy
    of the host's mounts at the guest's start. Where a storage node shares
    the host (the all-in-one, the lab), that copy keeps every ZFS dataset
    mounted then busy while the guest runs: a volume or pool could not be
    destroyed until some unrelated guest stopped. True if the file changed.
    """
    with open(path) as f:
        lines = f.read().splitlines()
    if any(line.replace(" ", "") == "namespaces=[]" for line in lines):
        return False
    kept = [
        line for line in lines if not line.lstrip().startswith("namespaces")
    ]
    kept += [
        "# Arame (arame.deploy.infra): guests share the host's mounts, "
        "so a guest never keeps a ZFS dataset busy.",
        "namespaces = []",
    ]
    tmp = f"{path}.arame-tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(kept) + "\n")
    os.chmod(tmp, os.stat(path).st_mode & 0o777)
    os.replace(tmp, path)
    return True


def _check_sql_name(name: str) -> None:
    # Names go into DDL, which takes no bind parameters.
    if not name.replace("_", "").isalnum() or len(name) > 64:
        raise ValueError(f"unsafe database or user name: {name!r}")


def main(argv=None) -> int:
    """`python -m arame.deploy.infra ensure`: RabbitMQ, MariaDB and libvirtd
    answering."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if args != ["ensure"]:
        print("usage: python -m arame.deploy.infra ensure", file=sys.stderr)
        return 2
    for svc in (RabbitMQ(), MariaDB(), Libvirt()):
        started = svc.ensure_running()
        print(
            f"{type(svc).__name__}: {'started' if started else 'already running'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
