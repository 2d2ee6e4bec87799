"""The multi-host lab: up, down, status.

Order of `up`: the machine's broker and database (a vhost, a database and a
user of the lab's: `alab`), the namespaces (with `--storage zfs`, the
shared mount before them and the pool after: storage.py), each host's
files, the portal (portal.py), the storage host's tgtd, the schema and
seed run on the controller, libvirtd on the compute hosts, then every
host's daemons; ready when the API answers and /v1/hosts shows every
daemon of every host up. `down` undoes all of it and checks that nothing
is left; it keeps each host's generated files and logs.
"""

import concurrent.futures
import json
import os
import secrets
import shutil
import signal
import subprocess

import httpx

from arame.common import waiting
from arame.deploy import infra, processes
from arame.deploy.infra.commands import InfraError, port_open, run
from arame.deploy.lab import portal, topology, units
from arame.deploy.lab import storage as lab_storage
from arame.deploy.lab.supervisor import Supervisor

LAB_DIR = "/var/lib/alab"
NAME = "alab"  # vhost, database and database user
API_PORT = 9001
STA_DATA_PORT = 9292
# --ha: nodes on 5761-5763; Galera SQL on 3341-3343 (its group ports
# 4597-4619), HAProxy on 3340. Clear of tests/cluster's (5701.., 3311..).
HA_RABBIT_PORT = 5761
HA_DB_PORT = 3341
# Not Arame's: stopped after the guests are gone, each its own way.
SYSTEM_DAEMONS = (*units.LIBVIRT_DAEMONS, "tgtd")


class Lab:
    def __init__(
        self,
        lab_dir: str = LAB_DIR,
        hosts: int = 3,
        api_port: int = API_PORT,
        admin_password: str | None = None,
        hva_on_controller: bool = False,
        ha: bool = False,
        storage: str = "fake",
    ):
        if storage not in lab_storage.BACKENDS:
            raise ValueError(
                f"storage {storage!r}: one of {', '.join(lab_storage.BACKENDS)}"
            )
        self.lab_dir = os.path.abspath(lab_dir)
        self.ha = ha
        self.storage = storage
        self.hosts = topology.default_roles(hosts, hva_on_controller)
        self.api_port = api_port
        self.admin_password = admin_password
        self.ns = topology.Namespaces(self.lab_dir, self.hosts)
        if ha:
            self.rabbit, self.mariadb = _clusters(self.lab_dir)
        else:
            self.rabbit, self.mariadb = infra.RabbitMQ(), infra.MariaDB()
        self.root = Supervisor(
            os.path.join(self.lab_dir, "run"),
            os.path.join(self.lab_dir, "log"),
            [],
        )
        # Made whatever the backend: `down` removes a pool left by an `up`
        # that was stopped halfway, by its name.
        store_host = next(h for h in self.hosts if topology.STORAGE in h.roles)
        self.store = lab_storage.LabStorage(self, store_host, NAME)

    @classmethod
    def existing(cls, lab_dir: str = LAB_DIR, **kw) -> "Lab":
        """The lab as `up` left it (its hosts and roles from lab.json)."""
        try:
            with open(os.path.join(lab_dir, "lab.json")) as f:
                saved = json.load(f)
        except (OSError, ValueError):
            saved = {"hosts": 3}
        return cls(
            lab_dir,
            hosts=saved["hosts"],
            hva_on_controller=saved.get("hva_on_controller", False),
            ha=saved.get("ha", False),
            storage=saved.get("storage", "fake"),
            **kw,
        )

    def _save(self) -> None:
        with open(os.path.join(self.lab_dir, "lab.json"), "w") as f:
            json.dump(
                {
                    "hosts": len(self.hosts),
                    "hva_on_controller": topology.COMPUTE
                    in self.controller.roles,
                    "ha": self.ha,
                    "storage": self.storage,
                },
                f,
            )

    # -- where things are ----------------------------------------------------
    @property
    def controller(self) -> topology.Host:
        return next(h for h in self.hosts if topology.CONTROLLER in h.roles)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def paths(self, host: topology.Host) -> topology.HostPaths:
        return topology.HostPaths(self.lab_dir, host)

    def supervisor(self, host: topology.Host) -> Supervisor:
        p = self.paths(host)
        return Supervisor(
            p.run_dir, p.log_dir, self.ns.enter(host), env=_checkout_env()
        )

    def host(self, name: str) -> topology.Host:
        return next(h for h in self.hosts if h.name == name)

    def _secret(self, key: str, value: str | None = None) -> str:
        d = os.path.join(self.lab_dir, "secrets")
        os.makedirs(d, mode=0o700, exist_ok=True)
        path = os.path.join(d, key)
        if value is None and os.path.exists(path):
            with open(path) as f:
                return f.read().strip()
        value = value or secrets.token_urlsafe(18)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value)
        return value

    # -- the shared configuration ----------------------------------------------
    def common_config(self) -> dict:
        c = self.controller
        underlay = [
            h.underlay_ip
            for h in self.hosts
            if {topology.COMPUTE, topology.NETWORK} & set(h.roles)
        ]
        db_url = self.mariadb.url(NAME, NAME, self._secret("db-password"))
        # The broker and database "on the controller" (portal.py): the
        # same ports on its management address.
        on_controller = f"@{c.mgmt_ip}:"
        conf = {
            "DEFAULT": {
                "transport_url": self.rabbit.url(NAME).replace(
                    "@127.0.0.1:", on_controller
                ),
            },
            "database": {
                "connection": db_url.replace("@127.0.0.1:", on_controller)
            },
            "api": {"host": c.mgmt_ip, "port": str(API_PORT)},
            "storage_data": {"ticket_secret": self._secret("ticket-secret")},
            "sta": {"data_address": c.mgmt_ip, "data_port": STA_DATA_PORT},
            "hva": {"driver": "libvirt"},
            "libvirt": {
                # TCG: KVM hangs here (INFRA-NOTES); a real host leaves
                # this to the probe (auto).
                "virt_type": "qemu",
                "kernel_cmdline": "console=ttyS0 panic=-1 loglevel=4",
            },
            "hva_networking": {
                "underlay_device": topology.UNDERLAY_DEV,
                "vxlan_peers": ",".join(underlay),
            },
            "nsa": {"driver": "dnsmasq"},
            # TCG boots on a shared machine take their time.
            "scheduler": {"agent_call_timeout": "120"},
        }
        if self.storage == "zfs":
            conf["sta"].update(self.store.sta_options())
        if self.ha:
            conf.update(self.rabbit.messaging_options())
        return conf

    def own_config(self, host: topology.Host) -> dict:
        """What only this host's arame.conf says: a hypervisor's iSCSI
        initiator address, its own management address, so that fencing
        revokes the dead host alone."""
        if self.storage == "zfs" and topology.COMPUTE in host.roles:
            return {"libvirt": {"iscsi_initiator_address": host.mgmt_ip}}
        return {}

    # -- up ------------------------------------------------------------------
    def preflight(self) -> None:
        left = topology.lab_netns()
        if left:
            raise InfraError(
                f"a lab is up ({', '.join(left)}): tools/lab down first"
            )
        if self.ha and not self.rabbit.running():
            # Fixed ports (the config names them); tests/cluster picks
            # free ones at random and may hold ours.
            taken = [
                p
                for n in self.rabbit.nodes
                for p in (
                    self.rabbit.port_of(n),
                    self.rabbit.node(n).dist_port,
                )
                if port_open("127.0.0.1", p)
            ]
            if taken:
                raise InfraError(
                    f"--ha: ports {taken} are taken by another broker"
                )
        if self.storage == "zfs":
            self.store.preflight()
        if port_open("127.0.0.1", self.api_port):
            raise InfraError(
                f"127.0.0.1:{self.api_port} is taken (tools/single-host "
                "up?): give --port"
            )

    def up(self, timeout: float = 240) -> None:
        self.preflight()
        os.makedirs(self.lab_dir, mode=0o755, exist_ok=True)
        # qemu (libvirt-qemu) reads guest files under the hosts' dirs.
        os.chmod(self.lab_dir, 0o755)
        self._save()
        if self.admin_password is None:
            self.admin_password = self._secret("admin-password")
        self.rabbit.ensure_running()
        self.mariadb.ensure_running()
        self.rabbit.create_vhost(NAME)
        self.mariadb.create_database(NAME, NAME, self._secret("db-password"))
        for h in self.hosts:
            self.paths(h).make()
        os.makedirs(
            os.path.join(self.lab_dir, "shared", "images"),
            mode=0o755,
            exist_ok=True,
        )
        if self.storage == "zfs":
            self.store.share_mounts()
        self.ns.make()
        if self.storage == "zfs":
            self.store.create_pool()
        self.write_files()
        self._start_portal()
        if self.storage == "zfs":
            self.store.start_tgtd()
        self._prepare_database()
        self._start_libvirt()
        for h in self.hosts:
            self._start_daemons(h)
        self.wait_ready(timeout)

    def write_files(self) -> None:
        common = self.common_config()
        bin_dir = os.path.dirname(processes.binary_path("arame-api"))
        if not os.path.isabs(bin_dir):
            raise InfraError("arame-api is not installed (pip install -e .)")
        for h in self.hosts:
            p = self.paths(h)
            units.write_config(p.config, common, h, self.own_config(h))
            units.write_units(p.units_dir, h, bin_dir)

    def engine_ports(self) -> list[int]:
        """The broker's (every node's) and the database's ports."""
        if self.ha:
            brokers = [self.rabbit.port_of(n) for n in self.rabbit.nodes]
        else:
            brokers = [self.rabbit.port]
        return brokers + [self.mariadb.port]

    def _portal_specs(self) -> list[str]:
        c = self.controller
        specs = [
            f"{c.netns}:{c.mgmt_ip}:{port}=-:127.0.0.1:{port}"
            for port in self.engine_ports()
        ]
        specs.append(
            f"-:127.0.0.1:{self.api_port}={c.netns}:{c.mgmt_ip}:{API_PORT}"
        )
        return specs

    def _start_portal(self) -> None:
        import sys

        self.root.start(
            "portal",
            [sys.executable, "-m", portal.__name__, *self._portal_specs()],
        )
        c = self.controller
        waiting.wait_for(
            lambda: _port_open_in(c.netns, c.mgmt_ip, self.mariadb.port),
            15,
            "the portal to listen",
        )

    def run_on(self, host, argv, env=None, timeout=300) -> str:
        """A command on a host (its namespaces), as an operator's shell."""
        proc = subprocess.run(
            self.ns.enter(host) + argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(os.environ, **_checkout_env(), **(env or {})),
        )
        if proc.returncode != 0:
            raise InfraError(
                f"{' '.join(argv)} on {host.name} failed: "
                f"{proc.stderr.strip()[-2000:]}"
            )
        return proc.stdout

    def manage(self, *args: str, env=None) -> str:
        return self.run_on(
            self.controller,
            [
                processes.binary_path("arame-manage"),
                "--config-file",
                "/etc/arame/arame.conf",
                *args,
            ],
            env=env,
        )

    def _prepare_database(self) -> None:
        self.manage("db", "sync")
        self.manage(
            "bootstrap",
            "--reset-password",
            env={"ARAME_ADMIN_PASSWORD": self.admin_password},
        )
        self.manage("seed")
        # Into the shared image store every hypervisor reads.
        self.manage("image", "install-test")

    def _start_libvirt(self, hosts=None) -> None:
        computes = [
            h for h in hosts or self.hosts if topology.COMPUTE in h.roles
        ]
        for h in computes:
            sup = self.supervisor(h)
            for name, argv in units.LIBVIRT_DAEMONS.items():
                sup.start(name, argv)

        def answers(h):
            # The first call waits while libvirt probes qemu (~8 s each).
            waiting.wait_for(
                lambda: self.virsh(h, "version", check=False).returncode == 0,
                90,
                f"libvirtd of {h.name} to answer",
            )

        with concurrent.futures.ThreadPoolExecutor(len(computes)) as pool:
            list(pool.map(answers, computes))

    def virsh(self, host, *args, check=True):
        uri = "qemu+unix:///system?socket=" + self.paths(host).libvirt_socket
        return run(["virsh", "-c", uri, *args], check=check, timeout=120)

    def _start_daemons(self, host: topology.Host) -> None:
        sup = self.supervisor(host)
        units_dir = self.paths(host).units_dir
        for name, unit in units.daemons(host):
            sup.start(name, units.exec_start(units_dir, unit))

    # -- readiness -----------------------------------------------------------
    def token(self) -> str:
        r = httpx.post(
            f"{self.api_url}/v1/auth/tokens",
            json={"username": "admin", "password": self.admin_password},
            timeout=10,
        )
        r.raise_for_status()
        return r.json()["token"]

    def expected(self) -> dict[str, set[str]]:
        """host name -> the binaries that must heartbeat from it."""
        return {
            h.name: {unit for _, unit in units.daemons(h)} for h in self.hosts
        }

    def hosts_report(self) -> list[dict]:
        r = httpx.get(
            f"{self.api_url}/v1/hosts",
            headers={"Authorization": f"Bearer {self.token()}"},
            params={"limit": 1000},
            timeout=10,
        )
        r.raise_for_status()
        return r.json()["items"]

    def missing(self) -> dict[str, set[str]]:
        """Daemons not (yet) reported up, per host."""
        up: dict[str, set[str]] = {}
        for item in self.hosts_report():
            up[item["name"]] = {
                s["binary"] for s in item["services"] if s["state"] == "up"
            }
        out = {}
        for host, want in self.expected().items():
            lacking = want - up.get(host, set())
            if lacking:
                out[host] = lacking
        return out

    def wait_ready(self, timeout: float) -> None:
        def dead():
            for h in self.hosts:
                sup = self.supervisor(h)
                for name in sup.names():
                    p = sup.get(name)
                    if not p.alive():
                        raise InfraError(
                            f"{name} on {h.name} exited; see {p.log}:\n"
                            + p.last_words()
                        )

        def api_up():
            dead()
            try:
                return (
                    httpx.get(f"{self.api_url}/healthz", timeout=2).status_code
                    == 200
                )
            except httpx.HTTPError:
                return False

        waiting.wait_for(api_up, timeout, "the lab's API to answer")

        def all_up():
            dead()
            return not self.missing()

        try:
            waiting.wait_for(all_up, timeout, "every host's daemons")
        except waiting.WaitTimeout as e:
            raise InfraError(f"{e}; not up: {self.missing()}") from None

    # -- down ----------------------------------------------------------------
    def down(self) -> list[str]:
        """Stop and remove everything; returns what was still found after
        (empty when clean)."""
        sups = {h: self.supervisor(h) for h in self.hosts}
        arame = {
            h: [n for n in s.names() if n not in SYSTEM_DAEMONS]
            for h, s in sups.items()
        }
        # Every daemon gets SIGTERM at once, then each is waited for.
        for h, names in arame.items():
            for n in names:
                sups[h].signal(n)
        for h, names in arame.items():
            for n in names:
                sups[h].stop(n)
        for h, s in sups.items():
            if topology.COMPUTE in h.roles and s.get("libvirtd").alive():
                self._remove_guests(h)
            for n in ("libvirtd", "virtlogd"):
                s.stop(n)
        self.store.stop_tgtd()
        self.root.stop("portal")
        # What the daemons started and left (dnsmasq outlives nsa, on
        # purpose): anything still in a lab namespace is the lab's.
        for pid in self.processes():
            _kill(pid)
        self.ns.remove()
        self.store.remove_pool()
        for h in self.hosts:
            for d in ("var", "run"):
                shutil.rmtree(self.paths(h).path(d), ignore_errors=True)
        shutil.rmtree(os.path.join(self.lab_dir, "shared"), ignore_errors=True)
        if self.rabbit.running():
            self.rabbit.delete_vhost(NAME)
        if self.mariadb.running():
            self.mariadb.drop_database(NAME)
            self.mariadb.drop_user(NAME)
        if self.ha:
            # The lab's own clusters (their data stays for the next up).
            self.rabbit.stop()
            self.mariadb.cluster.stop()
        if os.path.isdir("/etc/arame") and not os.listdir("/etc/arame"):
            os.rmdir("/etc/arame")
        return self.leftovers()

    def _remove_guests(self, host) -> None:
        names = self.virsh(host, "list", "--all", "--name", check=False)
        for dom in names.stdout.split():
            self.virsh(host, "destroy", dom, check=False)
            self.virsh(host, "undefine", "--nvram", dom, check=False)

    # -- a host's death and return (tests/functional/test_lab_evacuation.py)
    def kill_host(self, host: topology.Host) -> list[int]:
        """What a power cut does to a host's processes: SIGKILL to every
        one in its namespace (agents, libvirtd, qemu), no clean-up. Its
        links, files and domain definitions stay, as a disk's would."""
        pids = self.processes([host.netns])
        for pid in pids:
            _kill(pid)
        return pids

    def start_host(self, host: topology.Host) -> None:
        """The host boots again: libvirt's daemons, then Arame's."""
        self.start_libvirt(host)
        self.start_agents(host)

    def start_libvirt(self, host: topology.Host) -> None:
        self._start_libvirt([host])

    def start_agents(self, host: topology.Host) -> None:
        self._start_daemons(host)

    def processes(self, netns: list[str] | None = None) -> list[int]:
        """Every process in one of the lab's network namespaces (or in
        `netns`)."""
        inos = set()
        for ns in topology.lab_netns() if netns is None else netns:
            try:
                inos.add(os.stat(f"/run/netns/{ns}").st_ino)
            except OSError:
                pass
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                if os.stat(f"/proc/{d}/ns/net").st_ino in inos:
                    out.append(int(d))
            except OSError:
                continue
        return out

    def leftovers(self) -> list[str]:
        left = [f"netns {n}" for n in topology.lab_netns()]
        links = run(["ip", "-o", "link"], check=False).stdout
        left += [
            f"link {line.split(': ')[1]}"
            for line in links.splitlines()
            if ": alab" in line
        ]
        for name in ("portal",):
            if self.root.get(name).alive():
                left.append(f"process {name}")
        left += self.store.leftovers()
        for h in self.hosts:
            s = self.supervisor(h)
            left += [
                f"process {n} on {h.name}"
                for n in s.names()
                if s.get(n).alive()
            ]
        return left

    # -- status ----------------------------------------------------------------
    def status(self) -> dict:
        rows = []
        for h in self.hosts:
            s = self.supervisor(h)
            for n in s.names():
                p = s.get(n)
                rows.append(
                    {
                        "host": h.name,
                        "roles": ",".join(h.roles),
                        "name": n,
                        "pid": p.pid,
                        "alive": p.alive(),
                        "log": p.log,
                    }
                )
        try:
            report = self.hosts_report()
        except (httpx.HTTPError, OSError) as e:
            report = None
            why = str(e)
        else:
            why = ""
        return {"daemons": rows, "hosts": report, "api_error": why}


def _clusters(lab_dir: str):
    """The 3-node RabbitMQ and Galera clusters of `--ha`, on ports and
    names of the lab's own (tests/cluster runs its own beside them)."""
    from arame.deploy.infra.galera import GaleraCluster
    from arame.deploy.infra.rabbit_cluster import RabbitCluster

    rabbit = RabbitCluster(
        os.path.join(lab_dir, "rabbit"), 3, HA_RABBIT_PORT, prefix="alab-rmq"
    )
    galera = GaleraCluster(os.path.join(lab_dir, "galera"), 3, HA_DB_PORT)
    return rabbit, galera.mariadb()


def _checkout_env() -> dict:
    """This checkout on the daemons' path: entering a host's mount
    namespace leaves them in /, where an editable install made from
    another directory would not find the package."""
    import arame

    top = os.path.dirname(os.path.dirname(os.path.abspath(arame.__file__)))
    return {"PYTHONPATH": top}


def _port_open_in(netns: str, host: str, port: int) -> bool:
    with portal.in_netns(netns):
        import socket

        s = socket.socket()
    s.settimeout(0.5)
    try:
        s.connect((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
