"""Where bench/units.py creates its units: a deployment of its own with the
fake hypervisor, one with real guests (libvirt, as bench/vm_boot.py starts
it), or an endpoint that already runs (tools/single-host, a functional
deployment)."""

import os
import tempfile

import httpx

from arame.deploy import infra, local
from arame.sdk import Client

from . import deployment
from .ports import free_port
from .resources import CPUMeter
from .run import Deadline, log

# Units of 20 and their reference side by side must not meet the account's
# default quota (20 instances): the bench measures time, not refusals.
NO_QUOTA = {"instances": -1, "vcpus": -1, "memory_mb": -1}


class Target:
    """What a run needs from where it runs: an endpoint and a token, the
    image, where guests' console logs are (real guests), a CPU meter over
    the deployment's processes (deployments of the bench's own), and a
    teardown."""

    url: str
    token: str
    image: str
    console_dir: str | None = None
    info: dict

    def client(self, timeout: float = 60.0) -> Client:
        return Client(self.url, token=self.token, timeout=timeout)

    def meter(self) -> CPUMeter | None:
        return None

    def api_pid(self) -> int | None:
        dep = getattr(self, "dep", None)
        return dep.daemons["api"].pid if dep is not None else None

    def down(self) -> dict:
        return {}


def find_image(client: Client, name: str) -> str:
    for img in client.images.list(all=True):
        if img["name"] == name or img["id"] == name:
            return img["id"]
    raise SystemExit(f"no image {name!r} at {client.endpoint}")


class FakeTarget(Target):
    """A LocalDeployment started as bench/control_plane.py starts it
    (lib/deployment.start_deployment: its own vhost, database, API port
    and state directory), the fake hva sharing --hosts hosts."""

    def __init__(self, name: str, state_dir: str, args, rabbit, mariadb):
        conf = deployment.parse_overrides(args.set)
        conf.setdefault("fake_hva", {}).setdefault(
            "spawn_delay", args.spawn_delay
        )
        for k, v in NO_QUOTA.items():
            conf.setdefault("quota", {}).setdefault(k, v)
        self.args = args
        self.dep = local.LocalDeployment(
            name,
            state_dir,
            api_port=free_port(),
            conf=conf,
            rabbit=rabbit,
            mariadb=mariadb,
        )
        self.url = self.dep.api_url
        self.info = {
            "driver": "fake",
            "name": name,
            "api_url": self.url,
            "state_dir": state_dir,
            "conf": conf,
        }

    def up(self, deadline: Deadline) -> None:
        st = deployment.start_deployment(self.dep, self.args, deadline)
        self.token = st.pop("token")
        self.info["startup"] = st
        with self.client() as c:
            self.image = find_image(c, self.args.image)
        self._meter = CPUMeter(self.dep)

    def meter(self) -> CPUMeter | None:
        return self._meter

    def down(self) -> dict:
        out = {}
        try:
            out["teardown"] = deployment.teardown(self.dep)
        except BaseException as e:  # noqa: B902 - still drop everything
            out["teardown_error"] = f"{type(e).__name__}: {e}"
            self.dep.down(drop=True)
        out["log_errors"] = deployment.log_errors(self.dep.log_dir)
        return out


class LibvirtTarget(Target):
    """Real guests the way bench/vm_boot.py gets them (its Arame class:
    the libvirt driver in the lab namespace, instances and images under
    --root, the fake naming agent), with room for --sizes guests at once
    on this host: the CPU and disk allocation ratios raised to fit, and
    no quota."""

    def __init__(self, args):
        import vm_boot  # bench/ is first on sys.path

        self.lab = infra.Libvirt()
        self.lab.ensure_running()
        os.makedirs(args.root, mode=0o755, exist_ok=True)
        self.arame = vm_boot.Arame(args.root, self.lab.netns)
        dep = self.arame.dep
        most = max(args.sizes) + 1  # the largest trial and a straggler
        cores = os.cpu_count() or 1
        sched = dep.conf.setdefault("scheduler", {})
        sched["cpu_allocation_ratio"] = max(
            float(sched.get("cpu_allocation_ratio", 4.0)), most / cores
        )
        sched["disk_allocation_ratio"] = 4.0  # qcow2 overlays are sparse
        dep.conf["quota"] = dict(NO_QUOTA)
        for section, values in deployment.parse_overrides(args.set).items():
            dep.conf.setdefault(section, {}).update(values)
        self.dep = dep
        self.url = dep.api_url
        self.console_dir = self.arame.instances
        self.info = {
            "driver": "libvirt",
            "name": self.arame.name,
            "api_url": self.url,
            "state_dir": dep.state_dir,
            "root": self.arame.root,
            "conf": dep.conf,
        }

    def up(self, deadline: Deadline) -> None:
        self.arame.up()
        self.token = self.arame.client.token
        self.image = self.arame.image
        self.info["virt_type"] = self.arame.virt_type
        self._meter = CPUMeter(self.dep)

    def meter(self) -> CPUMeter | None:
        return self._meter

    def down(self) -> dict:
        errors = deployment.log_errors(self.dep.log_dir)
        self.arame.down()
        return {"log_errors": errors}


class EndpointTarget(Target):
    """An Arame that runs already: --url, --username/--password."""

    def __init__(self, args):
        self.url = args.url.rstrip("/")
        r = httpx.post(
            f"{self.url}/v1/auth/tokens",
            json={"username": args.username, "password": args.password},
            timeout=30,
        )
        r.raise_for_status()
        self.token = r.json()["token"]
        with self.client() as c:
            self.image = find_image(c, args.image)
        self.console_dir = args.console_dir
        self.info = {"driver": "endpoint", "api_url": self.url}

    def up(self, deadline: Deadline) -> None:
        pass


def make_target(args, name: str, rabbit, mariadb) -> Target:
    if args.url:
        return EndpointTarget(args)
    if args.driver == "libvirt":
        return LibvirtTarget(args)
    state_dir = tempfile.mkdtemp(prefix=f"arame-{name}-", dir="/tmp")
    log(f"deployment {name}, state {state_dir}")
    return FakeTarget(name, state_dir, args, rabbit, mariadb)
