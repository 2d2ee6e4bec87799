"""A MariaDB Galera cluster on this machine: N mariadbd with their own
datadir, socket and ports, behind one HAProxy port that sends every
connection to one node (haproxy.py).

Ports, from `first_port` (3311 by default), node i counting from 0:
SQL `first_port + i`; Galera's group communication `first_port + 1256 +
10 i` (4567, 4577, 4587), its IST receiver one above and the rsync SST
receiver two above; the health check `first_port + 6000 + i`; HAProxy
`first_port - 1` (3310). The machine's own MariaDB (3306, its datadir) is
never touched.

Node 0 bootstraps a new cluster (`--wsrep-new-cluster`) when no datadir
holds one yet; the others join it and receive a full state transfer (SST,
rsync: it works as root here, so mariabackup is not needed). A node that
was killed comes back with `restart()`: it rejoins from its own datadir
and receives only what it missed (IST) while the others' gcache holds it.

Failure detection is tuned for one machine (Galera's defaults are for
WANs): a SIGKILLed node leaves the view in about `suspect_timeout`
seconds; until then the survivors' commits wait.
"""

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import urllib.parse

from arame.common.waiting import wait_for
from arame.deploy.infra import galera_check, haproxy
from arame.deploy.infra.commands import InfraError, require, run
from arame.deploy.infra.mariadb import MariaDB

PROVIDER = "/usr/lib/galera/libgalera_smm.so"
USER = "arame"
# The nodes run as mysql, not root: the joiner's rsync daemon (SST) started
# by root drops to `nobody` and cannot write the datadir; started by mysql
# it stays mysql. So every directory a node uses belongs to mysql, and the
# base directory's parents must let mysql through.
RUN_AS = "mysql"
_SYNCED = "4"


class Node:
    def __init__(self, cluster: "GaleraCluster", index: int):
        self.index = index
        self.name = f"node{index + 1}"
        self.dir = os.path.join(cluster.base_dir, self.name)
        self.datadir = os.path.join(self.dir, "data")
        self.socket = os.path.join(self.dir, "mysqld.sock")
        self.pidfile = os.path.join(self.dir, "mysqld.pid")
        self.cnf = os.path.join(self.dir, "my.cnf")
        self.log = os.path.join(self.dir, "error.log")
        self.port = cluster.first_port + index
        self.gcomm_port = cluster.first_port + 1256 + 10 * index
        self.check_port = cluster.first_port + 6000 + index
        self.proc: subprocess.Popen | None = None  # if we launched it

    def pid(self) -> int | None:
        return _alive(self.pidfile, "mariadbd")

    def root(self, timeout: float = 2):
        import pymysql

        return pymysql.connect(
            unix_socket=self.socket,
            user="root",
            autocommit=True,
            connect_timeout=timeout,
            read_timeout=10,
        )

    def status(self) -> dict[str, str]:
        conn = self.root()
        try:
            with conn.cursor() as c:
                c.execute("SHOW GLOBAL STATUS LIKE 'wsrep%'")
                return dict(c.fetchall())
        finally:
            conn.close()


class GaleraCluster:
    def __init__(
        self,
        base_dir: str,
        nodes: int = 3,
        first_port: int = 3311,
        *,
        suspect_timeout: float = 2.0,
        password: str | None = None,
    ):
        if nodes < 1:
            raise ValueError("a cluster needs at least one node")
        self.base_dir = os.path.abspath(base_dir)
        self.first_port = first_port
        self.proxy_port = first_port - 1
        self.suspect_timeout = suspect_timeout
        self._nodes = [Node(self, i) for i in range(nodes)]
        self.proxy = haproxy.HAProxy(
            os.path.join(self.base_dir, "haproxy"), self.proxy_port
        )
        self.name = f"arame-{first_port}"
        self._password_file = os.path.join(self.base_dir, "password")
        self._password = password
        self._check_proc: subprocess.Popen | None = None

    # -- what others use -------------------------------------------------
    @property
    def nodes(self) -> list[str]:
        return [n.name for n in self._nodes]

    def node(self, name: str) -> Node:
        for n in self._nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    @property
    def password(self) -> str:
        if self._password is None:
            try:
                with open(self._password_file) as f:
                    self._password = f.read().strip()
            except FileNotFoundError:
                os.makedirs(self.base_dir, exist_ok=True)
                self._password = secrets.token_hex(12)
                fd = os.open(
                    self._password_file,
                    os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                    0o600,
                )
                with os.fdopen(fd, "w") as f:
                    f.write(self._password)
        return self._password

    def connection_url(self, db: str) -> str:
        """SQLAlchemy URL of database `db` through HAProxy (created if
        missing; the cluster's user may use every database)."""
        _check_name(db)
        conn = self._any_node().root()
        try:
            with conn.cursor() as c:
                c.execute(
                    f"CREATE DATABASE IF NOT EXISTS `{db}` "
                    "CHARACTER SET utf8mb4"
                )
        finally:
            conn.close()
        q = urllib.parse.quote
        return (
            f"mysql+pymysql://{USER}:{q(self.password, safe='')}@"
            f"127.0.0.1:{self.proxy_port}/{db}?charset=utf8mb4"
        )

    def drop_database(self, db: str) -> None:
        _check_name(db)
        conn = self._any_node().root()
        try:
            with conn.cursor() as c:
                c.execute(f"DROP DATABASE IF EXISTS `{db}`")
        finally:
            conn.close()

    def mariadb(self) -> "GaleraMariaDB":
        """What LocalDeployment takes as its `mariadb`."""
        return GaleraMariaDB(self)

    def writer(self) -> str:
        """The node HAProxy sends connections to now."""
        import pymysql

        conn = pymysql.connect(
            host="127.0.0.1",
            port=self.proxy_port,
            user=USER,
            password=self.password,
            connect_timeout=2,
            read_timeout=5,
        )
        try:
            with conn.cursor() as c:
                c.execute("SELECT @@wsrep_node_name")
                return c.fetchone()[0]
        finally:
            conn.close()

    def cluster_size(self, node: str | None = None) -> int:
        n = self.node(node) if node else self._any_node()
        return int(n.status().get("wsrep_cluster_size", 0))

    # -- life --------------------------------------------------------------
    def start(self, timeout: float = 120) -> None:
        """Idempotent: nodes already running are kept; a cluster stopped
        cleanly starts again from the node that stopped last."""
        require("mariadbd", "mariadb-server")
        if not os.path.exists(PROVIDER):
            raise InfraError(
                f"{PROVIDER} is missing (apt-get install galera-4)"
            )
        os.makedirs(self.base_dir, exist_ok=True)
        _let_through(self.base_dir)
        for n in self._nodes:
            self._prepare(n)
        running = [n for n in self._nodes if n.pid() is not None]
        if not running:
            first = self._bootstrap_candidate()
            self._launch(first, bootstrap=True)
            self._wait_synced(first, timeout)
            self._ensure_user(first)
            running = [first]
        for n in self._nodes:
            if n.pid() is None:
                self._launch(n)
        for n in self._nodes:
            self._wait_synced(n, timeout)
        wait_for(
            lambda: self.cluster_size() == len(self._nodes),
            timeout,
            f"Galera cluster size {len(self._nodes)}",
            ignore=(Exception,),
        )
        self._start_check()

        def checks_answer() -> bool:
            proc = self._check_proc
            if proc is not None and proc.poll() is not None:
                raise InfraError(
                    f"galera_check exited ({proc.returncode}); see "
                    f"{os.path.join(self.base_dir, 'check.log')}"
                )
            return all(
                galera_check.synced(n.socket) and _answers(n.check_port)
                for n in self._nodes
            )

        wait_for(
            checks_answer,
            timeout,
            "the health check to answer for every node",
        )
        fresh = self.proxy.pid() is None
        self.proxy.start(
            [
                haproxy.Backend(n.name, n.port, n.check_port)
                for n in self._nodes
            ]
        )
        wait_for(
            lambda: all(self.proxy.servers_up().values()),
            timeout,
            "HAProxy to see every node up",
            ignore=(OSError,),
        )
        if fresh:
            # Connections made while the checks settled may have stuck to
            # any node: the writer of a new cluster is node 0.
            self.proxy.command("clear table galera")

    def stop(self, timeout: float = 60) -> None:
        """HAProxy, the health check, then the nodes (SIGTERM: a clean
        shutdown that a later start() resumes from)."""
        self.proxy.stop()
        self._stop_check()
        for n in reversed(self._nodes):
            pid = n.pid()
            if pid is not None:
                os.kill(pid, signal.SIGTERM)
                wait_for(
                    lambda n=n: n.pid() is None,
                    timeout,
                    f"{n.name} to shut down",
                )

    def kill(self, node: str) -> None:
        """SIGKILL: the node dies as a crashed machine would."""
        n = self.node(node)
        pid = n.pid()
        if pid is None:
            raise InfraError(f"{node} is not running")
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: n.pid() is None, 10, f"{node} to die")

    def restart(self, node: str, timeout: float = 120) -> None:
        """Bring `node` back (killed or stopped): it rejoins the cluster
        from its datadir (IST, or SST if it fell too far behind)."""
        n = self.node(node)
        if n.pid() is None:
            self._launch(n)
        self._wait_synced(n, timeout)
        wait_for(
            lambda: self.proxy.servers_up().get(n.name),
            timeout,
            f"HAProxy to see {node} up",
            ignore=(OSError,),
        )

    # -- details -----------------------------------------------------------
    def _any_node(self) -> Node:
        for n in self._nodes:
            if n.pid() is not None:
                try:
                    if n.status().get("wsrep_local_state") == _SYNCED:
                        return n
                except Exception:
                    continue
        raise InfraError("no node of the Galera cluster is synced")

    def _bootstrap_candidate(self) -> Node:
        # The node that stopped last says safe_to_bootstrap: 1. A fresh
        # cluster (no grastate anywhere) starts from node 0.
        for n in self._nodes:
            state = os.path.join(n.datadir, "grastate.dat")
            try:
                with open(state) as f:
                    if "safe_to_bootstrap: 1" in f.read():
                        return n
            except FileNotFoundError:
                continue
        return self._nodes[0]

    def _prepare(self, n: Node) -> None:
        os.makedirs(n.dir, exist_ok=True)
        shutil.chown(n.dir, RUN_AS, RUN_AS)
        with open(n.cnf, "w") as f:
            f.write(self._config(n))
        if not os.path.isdir(os.path.join(n.datadir, "mysql")):
            install = require("mariadb-install-db", "mariadb-server")
            run(
                [
                    install,
                    f"--defaults-file={n.cnf}",
                    f"--user={RUN_AS}",
                    "--auth-root-authentication-method=socket",
                    "--skip-test-db",
                ],
                timeout=120,
            )

    def _config(self, n: Node) -> str:
        members = ",".join(f"127.0.0.1:{m.gcomm_port}" for m in self._nodes)
        suspect = self.suspect_timeout
        options = ";".join(
            [
                f"gmcast.listen_addr=tcp://127.0.0.1:{n.gcomm_port}",
                f"ist.recv_addr=127.0.0.1:{n.gcomm_port + 1}",
                "gcache.size=128M",
                "evs.keepalive_period=PT0.5S",
                "evs.inactive_check_period=PT0.5S",
                f"evs.suspect_timeout=PT{suspect:g}S",
                f"evs.inactive_timeout=PT{2 * suspect:g}S",
                "pc.wait_prim_timeout=PT30S",
            ]
        )
        return f"""[mariadbd]
user = {RUN_AS}
datadir = {n.datadir}
socket = {n.socket}
pid-file = {n.pidfile}
log-error = {n.log}
port = {n.port}
bind-address = 127.0.0.1
skip-name-resolve
binlog_format = ROW
default_storage_engine = InnoDB
innodb_autoinc_lock_mode = 2
innodb_buffer_pool_size = 64M
innodb_flush_log_at_trx_commit = 0
max_connections = 500
wsrep_on = ON
wsrep_provider = {PROVIDER}
wsrep_cluster_name = {self.name}
wsrep_cluster_address = gcomm://{members}
wsrep_node_name = {n.name}
wsrep_node_address = 127.0.0.1:{n.gcomm_port}
wsrep_provider_options = "{options}"
wsrep_sst_method = rsync
wsrep_sst_receive_address = 127.0.0.1:{n.gcomm_port + 2}
wsrep_slave_threads = 2
"""

    def _launch(self, n: Node, bootstrap: bool = False) -> None:
        binary = require("mariadbd", "mariadb-server")
        args = [binary, f"--defaults-file={n.cnf}"]
        if bootstrap:
            args.append("--wsrep-new-cluster")
        position = self._recover(n)
        if position is not None:
            args.append(f"--wsrep-start-position={position}")
        with open(os.path.join(n.dir, "stdout.log"), "ab") as log:
            n.proc = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=n.dir,
            )

    def _recover(self, n: Node) -> str | None:
        """After a crash grastate.dat says seqno -1: without the position
        InnoDB holds, the node would ask for a full copy (SST, which
        blocks its donor: the writer, maybe) instead of what it missed
        (IST). What systemd's galera_recovery does."""
        try:
            with open(os.path.join(n.datadir, "grastate.dat")) as f:
                if not re.search(r"^seqno:\s+-1\s*$", f.read(), re.M):
                    return None
        except FileNotFoundError:
            return None
        log = os.path.join(n.dir, "recover.log")
        if os.path.exists(log):
            os.unlink(log)
        run(
            [
                require("mariadbd", "mariadb-server"),
                f"--defaults-file={n.cnf}",
                "--wsrep-recover",
                f"--log-error={log}",
            ],
            timeout=120,
            check=False,
        )
        try:
            with open(log) as f:
                found = re.findall(
                    r"Recovered position: (\S+:-?\d+)", f.read()
                )
        except FileNotFoundError:
            return None
        return found[-1] if found else None

    def _wait_synced(self, n: Node, timeout: float) -> None:
        import pymysql

        def synced():
            if n.proc is not None and n.proc.poll() is not None:
                raise InfraError(
                    f"{n.name} exited ({n.proc.returncode}); see {n.log}"
                )
            return n.status().get("wsrep_local_state") == _SYNCED

        try:
            wait_for(
                synced,
                timeout,
                f"{n.name} to be Synced",
                ignore=(pymysql.err.Error,),
            )
        except TimeoutError as e:
            raise InfraError(f"{e}; see {n.log}") from e

    def _ensure_user(self, n: Node) -> None:
        conn = n.root()
        try:
            with conn.cursor() as c:
                for host in ("127.0.0.1", "localhost"):
                    c.execute(
                        f"CREATE USER IF NOT EXISTS '{USER}'@'{host}' "
                        "IDENTIFIED BY %s",
                        (self.password,),
                    )
                    c.execute(
                        f"GRANT ALL ON *.* TO '{USER}'@'{host}' "
                        "WITH GRANT OPTION"
                    )
        finally:
            conn.close()

    # The health check daemon (galera_check.py): one process, a port per
    # node; its pid in base_dir.
    def _check_pidfile(self) -> str:
        return os.path.join(self.base_dir, "check.pid")

    def _check_pid(self) -> int | None:
        return _alive(self._check_pidfile(), "python")

    def _start_check(self) -> int:
        pid = self._check_pid()
        if pid is not None:
            return pid
        import sys

        args = [sys.executable, "-m", "arame.deploy.infra.galera_check"]
        args += [f"{n.check_port}={n.socket}" for n in self._nodes]
        with open(os.path.join(self.base_dir, "check.log"), "ab") as log:
            proc = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._check_proc = proc
        with open(self._check_pidfile(), "w") as f:
            f.write(str(proc.pid))
        return proc.pid

    def _stop_check(self) -> None:
        pid = self._check_pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            wait_for(
                lambda: self._check_pid() is None, 10, "galera_check to exit"
            )


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _let_through(path: str) -> None:
    """mysql must reach its node directories under `path`."""
    os.chmod(path, 0o755)
    parent = os.path.dirname(path)
    while parent and parent != "/":
        if not os.stat(parent).st_mode & 0o001:
            raise InfraError(
                f"{parent} does not let other users through (mode "
                f"{oct(os.stat(parent).st_mode & 0o777)}); the Galera "
                f"nodes run as {RUN_AS}: choose a base directory they reach"
            )
        parent = os.path.dirname(parent)


def _alive(pidfile: str, comm: str) -> int | None:
    """The pid in `pidfile` if that process lives and is `comm` (a stale
    file from an earlier run may name a reused pid)."""
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return None
    try:
        # A child of ours that died stays a zombie until reaped.
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    name, _, rest = stat.partition("(")[2].rpartition(")")
    if comm not in name or rest.split()[0] in ("Z", "X"):
        return None
    return pid


def _check_name(name: str) -> None:
    # Names go into DDL, which takes no bind parameters.
    if not name.replace("_", "").isalnum() or len(name) > 64:
        raise ValueError(f"unsafe database name: {name!r}")


class GaleraMariaDB(MariaDB):
    """The cluster as LocalDeployment's `mariadb`: databases and users are
    made on any synced node (DDL replicates to all), and the deployment's
    URL goes through HAProxy."""

    def __init__(self, cluster: GaleraCluster):
        super().__init__(host="127.0.0.1", port=cluster.proxy_port)
        self.cluster = cluster

    def _root(self):
        return self.cluster._any_node().root()

    def running(self) -> bool:
        try:
            self.cluster._any_node()
            return True
        except InfraError:
            return False

    def ensure_running(self, *args, **kwargs) -> bool:
        self.cluster.start()
        return False
