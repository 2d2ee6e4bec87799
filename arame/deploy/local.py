"""A real Arame deployment on this machine: every daemon its own process over
RabbitMQ and MariaDB, on one configuration file.

`tools/single-host` runs it for operators (and is their reference for a
multi-host install: the same config file and daemons, spread over hosts);
the functional tests and the benchmarks build theirs with the same class.
"""

import configparser
import logging
import os
import secrets
import subprocess
import time
from typing import TYPE_CHECKING

import httpx

from arame.common import waiting
from arame.deploy import infra, processes, storage
from arame.deploy.infra import outside

if TYPE_CHECKING:
    from arame.deploy.infra.rabbit_cluster import RabbitCluster

# Each role's console script (setup.cfg); an agent's script bears the name
# its heartbeats carry (BINARY in the agent's rpcapi.py), which this module
# does not import: it starts processes and stays off oslo.messaging.
ROLES = {
    "api": "arame-api",
    "scheduler": "arame-scheduler",
    "collector": "arame-collector",
    "hva": "arame-hva",
    "sta": "arame-sta",
    "nsa": "arame-nsa",
    "l3": "arame-l3",
    "bma": "arame-bma",
}
DEFAULT_ROLES = (
    "collector",
    "scheduler",
    "hva",
    "sta",
    "nsa",
    "l3",
    "bma",
    "api",
)


class LocalDeployment:
    def __init__(
        self,
        name: str,
        state_dir: str,
        *,
        api_port: int = 9001,
        admin_password: str | None = None,
        conf: dict | None = None,
        rabbit: "infra.RabbitMQ | RabbitCluster | None" = None,
        mariadb: infra.MariaDB | None = None,
        outside_netns: str = outside.OUTSIDE_NETNS,
        outside_dev: str = outside.OUTSIDE_DEV,
    ):
        if not name.replace("_", "").isalnum():
            raise ValueError("deployment name: letters, digits and _ only")
        self.name = name
        self.state_dir = os.path.abspath(state_dir)
        self.api_port = api_port
        self.admin_password = admin_password
        self.conf = conf or {}
        self.rabbit = rabbit or infra.RabbitMQ()
        self.mariadb = mariadb or infra.MariaDB()
        self.vhost = f"arame-{name}"
        self.database = f"arame_{name}"
        # One database user per deployment: deployments side by side (tests,
        # benchmarks) must not reset each other's password.
        self.db_user = "arame" if name == "single" else f"arame_{name}"[:32]
        self.daemons: dict[str, processes.Daemon] = {}
        # The world beyond the external network (netns L3 driver only):
        # its namespace, and its end of the veth whose lab end is the
        # physical device named in [l3] physical_networks.
        self.outside_netns = outside_netns
        self.outside_dev = outside_dev

    # -- paths ------------------------------------------------------------
    @property
    def config_path(self) -> str:
        return os.path.join(self.state_dir, "arame.conf")

    @property
    def run_dir(self) -> str:
        return os.path.join(self.state_dir, "run")

    @property
    def log_dir(self) -> str:
        return os.path.join(self.state_dir, "log")

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def _secret(self, key: str) -> str:
        """A generated secret kept in the state dir (0600)."""
        path = os.path.join(self.state_dir, key)
        if os.path.exists(path):
            with open(path) as f:
                return f.read().strip()
        value = secrets.token_urlsafe(18)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value)
        return value

    # -- set-up -----------------------------------------------------------
    def prepare(self) -> None:
        """Broker and database up, vhost and schema made, admin and seed."""
        os.makedirs(self.state_dir, exist_ok=True)
        os.chmod(self.state_dir, 0o700)
        self.rabbit.ensure_running()
        self.mariadb.ensure_running()
        self.rabbit.create_vhost(self.vhost)
        db_password = self._secret("db-password")
        self.mariadb.create_database(self.database, self.db_user, db_password)
        if self.admin_password is None:
            self.admin_password = self._secret("admin-password")
        self.write_config(db_password)
        self.manage("db", "sync")
        self.manage(
            "bootstrap",
            "--reset-password",
            env={"ARAME_ADMIN_PASSWORD": self.admin_password},
        )
        self.manage("seed")
        if self.conf.get("sta", {}).get("backend") == "zfs":
            self._prepare_storage()
        if self.conf.get("hva", {}).get("driver") == "libvirt":
            # Real guests: libvirtd in the lab namespace, and the test image
            # where the hypervisor reads image bytes from.
            infra.Libvirt(
                self.conf.get("libvirt", {}).get("plumbing_netns")
                or infra.LAB_NETNS
            ).ensure_running()
            self.manage("image", "install-test")
        if self._l3_netns() is not None:
            # Routers on real namespaces: the world beyond the external
            # network, a namespace of its own (infra/outside.py).
            outside.ensure(
                self._l3_netns(),
                netns=self.outside_netns,
                lab_dev=self._external_device(),
                outside_dev=self.outside_dev,
            )

    def _l3_netns(self) -> str | None:
        """The namespace holding the routers' bridges when the L3 agent
        runs its netns driver (None: the fake one)."""
        l3 = self.conf.get("l3", {})
        if l3.get("driver") != "netns":
            return None
        return l3.get("netns") or infra.LAB_NETNS

    def _external_device(self) -> str:
        """The lab end of the outside veth: the device [l3]
        physical_networks gives the external network."""
        mapping = str(self.conf["l3"].get("physical_networks", ""))
        for item in mapping.split(","):
            physnet, _, dev = item.strip().partition(":")
            if physnet == outside.PHYSICAL_NETWORK and dev:
                return dev
        return outside.LAB_DEV

    def _prepare_storage(self) -> None:
        """zfs-fuse, this deployment's pool and its own tgtd: the portal in
        the lab namespace, where qemu's initiators are."""
        c = self.conf["sta"]
        storage.ZfsFuse(self.run_dir).ensure()
        pool = storage.Pool(
            c["pool"], self.state_dir, size_gb=int(c.get("pool_size_gb", 20))
        )
        if c["pool"] not in storage.ZfsFuse.pools():
            pool.create()
        os.makedirs(self.run_dir, exist_ok=True)
        tgtd = storage.Tgtd(
            os.path.join(self.log_dir, "tgtd.log"),
            address=c["iscsi_address"],
            netns=self.conf.get("libvirt", {}).get("plumbing_netns")
            or infra.LAB_NETNS,
            port=int(c["iscsi_port"]),
        )
        tgtd.control_port = int(c["tgt_control_port"])
        if not os.path.exists(f"/var/run/tgtd/socket.{tgtd.control_port}"):
            os.makedirs(self.log_dir, exist_ok=True)
            tgtd.start()
            with open(os.path.join(self.run_dir, "tgtd.pid"), "w") as f:
                f.write(str(tgtd.proc.pid))
        for d in c.get("import_dirs", "").split(","):
            if d:
                os.makedirs(d, mode=0o755, exist_ok=True)

    def _teardown_storage(self, drop: bool) -> None:
        c = self.conf["sta"]
        storage.stop_tgtd(int(c["tgt_control_port"]))
        pidfile = os.path.join(self.run_dir, "tgtd.pid")
        if os.path.exists(pidfile):
            os.unlink(pidfile)
        # A zfs-fuse that never came up has no pool to drop (and the error
        # that says why was raised at prepare).
        if (
            drop
            and storage.ZfsFuse.running()
            and c["pool"] in storage.ZfsFuse.pools()
        ):
            storage.Pool(c["pool"], self.state_dir).destroy()

    def write_config(self, db_password: str) -> None:
        cp = configparser.ConfigParser(interpolation=None)
        cp["DEFAULT"] = {
            "transport_url": self.rabbit.url(self.vhost),
            "state_path": self.state_dir,
        }
        cp["database"] = {
            "connection": self.mariadb.url(
                self.database, self.db_user, db_password
            )
        }
        cp["api"] = {"host": "127.0.0.1", "port": str(self.api_port)}
        # Image bytes go from the API to sta's data endpoint with tickets
        # signed by a secret both read here; deployments side by side each
        # get their own port.
        cp["storage_data"] = {"ticket_secret": self._secret("ticket-secret")}
        cp["sta"] = {
            "data_address": "127.0.0.1",
            "data_port": str(storage.free_port("127.0.0.1")),
        }
        # What the broker needs of its clients (a cluster: replicated reply
        # queues), then the deployment's own options, which win.
        conf = {}
        for source in (self.rabbit.messaging_options(), self.conf):
            for section, values in source.items():
                conf.setdefault(section, {}).update(values)
        for section, values in conf.items():
            if section != "DEFAULT" and not cp.has_section(section):
                cp.add_section(section)
            for k, v in values.items():
                cp[section][k] = str(v)
        fd = os.open(
            self.config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600
        )
        with os.fdopen(fd, "w") as f:
            f.write(
                "# Written by arame.deploy.local; every daemon reads it.\n"
            )
            cp.write(f)

    def manage(self, *args: str, env: dict | None = None) -> str:
        full_env = dict(os.environ, **(env or {}))
        proc = subprocess.run(
            [
                processes.binary_path("arame-manage"),
                "--config-file",
                self.config_path,
                *args,
            ],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=300,
        )
        if proc.returncode != 0:
            raise infra.InfraError(
                f"arame-manage {' '.join(args)} failed: "
                f"{proc.stderr.strip()[-2000:]}"
            )
        return proc.stdout

    # -- daemons ----------------------------------------------------------
    def start(
        self, role: str, name: str | None = None, overlay: dict | None = None
    ) -> processes.Daemon:
        """Start one daemon; `overlay` adds options for it alone (its own
        [DEFAULT] host, fake host count ...)."""
        name = name or role
        configs = [self.config_path]
        if overlay:
            path = os.path.join(self.state_dir, f"{name}.conf")
            cp = configparser.ConfigParser(interpolation=None)
            for section, values in overlay.items():
                if section != "DEFAULT":
                    cp.add_section(section)
                for k, v in values.items():
                    cp[section][k] = str(v)
            with open(path, "w") as f:
                cp.write(f)
            configs.append(path)
        d = processes.start(
            name, ROLES[role], configs, self.run_dir, self.log_dir
        )
        self.daemons[name] = d
        return d

    def stop(self, name: str, timeout: float = 30, sig=None) -> int | None:
        import signal as _signal

        d = self.daemons.pop(name, None) or self._adopt(name)
        if d is None:
            return None
        return processes.stop(d, timeout=timeout, sig=sig or _signal.SIGTERM)

    def _adopt(self, name: str) -> processes.Daemon | None:
        role = name.split("-")[0]
        if role not in ROLES:
            return None
        return processes.from_pidfile(
            name, ROLES[role], self.run_dir, self.log_dir
        )

    def up(self, roles=DEFAULT_ROLES, timeout: float = 60) -> None:
        self.prepare()
        for role in roles:
            self.start(role)
        self.wait_ready(timeout, hypervisors=1 if "hva" in roles else 0)

    def down(self, drop: bool = False) -> None:
        names = set(self.daemons)
        if os.path.isdir(self.run_dir):
            names |= {
                f[:-4] for f in os.listdir(self.run_dir) if f.endswith(".pid")
            }
        # In waves, each stopped in parallel, callers before the daemons
        # they call: the API (no new requests), the schedulers (their
        # flows call the agents), the agents (their resyncs and periodic
        # syncs call the collector), the collector last. A daemon stopped
        # while a call of its own waits on one already gone waits out the
        # call's timeout (~30 s a teardown, in every test, before).
        waves: dict[int, list[str]] = {}
        for n in sorted(names):
            role = n.split("-")[0]
            wave = {"api": 0, "scheduler": 1, "collector": 3}.get(role, 2)
            waves.setdefault(wave, []).append(n)
        for wave in sorted(waves):
            adopted = {
                n: self.daemons.get(n) or self._adopt(n) for n in waves[wave]
            }
            for d in adopted.values():
                if d is not None:
                    processes.send_signal(d)
            for n in waves[wave]:
                self.stop(n)
        if self.conf.get("sta", {}).get("backend") == "zfs":
            self._teardown_storage(drop)
        if drop and self.conf.get("hva", {}).get("driver") == "libvirt":
            # Dropped means gone: its guests (the daemons leave guests
            # running when they stop) and its tenant bridges.
            lv = self.conf["libvirt"]
            netns = lv.get("plumbing_netns") or infra.LAB_NETNS
            lab = infra.Libvirt(netns)
            where = os.path.join(lv["instances_path"], "")
            removed = lab.remove_guests(lambda xml: where in xml)
            _remove_firewall_chains(netns, removed)
            lab.remove_networks(self._network_ids())
        if drop and self._l3_netns() is not None:
            outside.remove_routers(
                self.conf["l3"].get("namespace_prefix", "arame-"),
                self._ids("routers"),
            )
            outside.remove(
                self._l3_netns(),
                netns=self.outside_netns,
                lab_dev=self._external_device(),
            )
        if drop:
            self.rabbit.delete_vhost(self.vhost)
            self.mariadb.drop_database(self.database)
            if self.db_user != "arame":
                self.mariadb.drop_user(self.db_user)

    def engine(self):
        """Direct access to the deployment's database (checks, teardown)."""
        import sqlalchemy as sa

        with open(os.path.join(self.state_dir, "db-password")) as f:
            pw = f.read().strip()
        return sa.create_engine(
            self.mariadb.url(self.database, self.db_user, pw)
        )

    def _network_ids(self) -> set[str]:
        """The deployment's networks, read before its database goes."""
        return self._ids("networks")

    def _ids(self, table: str) -> set[str]:
        """The ids of a table of the deployment (networks, routers), read
        before its database goes."""
        import sqlalchemy as sa

        try:
            eng = self.engine()
            try:
                with eng.connect() as db:
                    return set(
                        db.execute(
                            sa.text(f"SELECT id FROM {table}")
                        ).scalars()
                    )
            finally:
                eng.dispose()
        except Exception:  # no database (never prepared): nothing of ours
            return set()

    def status(self) -> list[dict]:
        out = []
        names = set(self.daemons)
        if os.path.isdir(self.run_dir):
            names |= {
                f[:-4] for f in os.listdir(self.run_dir) if f.endswith(".pid")
            }
        for n in sorted(names):
            d = self.daemons.get(n) or self._adopt(n)
            if d is not None:
                out.append(
                    {
                        "name": n,
                        "binary": d.binary,
                        "pid": d.pid,
                        "alive": d.alive(),
                        "log": d.log_path,
                    }
                )
        return out

    # -- readiness --------------------------------------------------------
    def token(self) -> str:
        r = httpx.post(
            f"{self.api_url}/v1/auth/tokens",
            json={"username": "admin", "password": self.admin_password},
            timeout=10,
        )
        r.raise_for_status()
        return r.json()["token"]

    def wait_ready(self, timeout: float = 60, hypervisors: int = 1) -> None:
        """The API answers, `hypervisors` hosts have reported, and so has
        every daemon started here."""
        deadline = time.monotonic() + timeout

        def api_up():
            for name, d in self.daemons.items():
                if not d.alive():
                    raise infra.InfraError(
                        f"{name} exited; see {d.log_path}:\n"
                        + _tail(d.log_path)
                    )
            try:
                return (
                    httpx.get(f"{self.api_url}/healthz", timeout=1).status_code
                    == 200
                )
            except httpx.HTTPError:
                return False

        waiting.wait_for(
            api_up,
            max(1.0, deadline - time.monotonic()),
            "arame-api to answer",
        )
        headers = {"Authorization": f"Bearer {self.token()}"}
        # Every daemon started here heartbeats: a build needs the naming
        # agent (and the others) known before the first request.
        wanted = {d.binary for d in self.daemons.values()}

        def all_up():
            r = httpx.get(
                f"{self.api_url}/v1/hosts", headers=headers, timeout=5
            )
            items = r.json()["items"]
            up = [
                h
                for h in items
                if h.get("hypervisor_type") and h["state"] == "up"
            ]
            binaries = {
                s["binary"]
                for h in items
                for s in h["services"]
                if s["state"] == "up"
            }
            return len(up) >= hypervisors and wanted <= binaries

        waiting.wait_for(
            all_up,
            max(1.0, deadline - time.monotonic()),
            f"{hypervisors} hypervisor(s) and "
            f"{', '.join(sorted(wanted))} to report",
        )


def _tail(path: str, lines: int = 30) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def _remove_firewall_chains(netns: str, instance_ids: list[str]) -> None:
    """The security-group chains of the guests just removed: the next
    hva in that namespace would otherwise find them and, sharing the
    dispatch chains, trip over them."""
    if not instance_ids:
        return
    from arame.agents.hva.firewall import NetfilterFirewall

    fw = NetfilterFirewall(netns)
    for iid in instance_ids:
        try:
            fw.remove_port(iid)
        except Exception as e:  # noqa: BLE001  (teardown goes on)
            logging.getLogger(__name__).warning(
                "could not remove the chains of %s: %s", iid, e
            )
