"""A hypervisor host that comes back destroys its stale copies (guests
evacuated or deleted while it was down) before it serves or reports up:
the libvirt driver on libvirt's test:///default, the daemon's components
started in their order."""

import contextlib
import os

import libvirt
import pytest

from arame.agents.hva import service, startup
from arame.agents.hva.drivers.libvirt import config as xmlconf
from arame.agents.hva.drivers.libvirt import driver as libvirt_driver
from arame.agents.hva.manager import HypervisorManager
from arame.common.service import Launcher

STALE, KEPT, OTHER = "i-5ta1e001", "i-5ta1e002", "i-5ta1e003"
NET = "net-5ta1e001"


class Domain:
    """test:///default's domain, but it has no NVRAM: the flag that says
    "and its NVRAM" is dropped (it refuses it as unsupported)."""

    def __init__(self, dom):
        self._dom = dom

    def __getattr__(self, name):
        return getattr(self._dom, name)

    def undefineFlags(self, flags=0):
        return self._dom.undefineFlags(
            flags & ~libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
        )


class Conn:
    """test:///default, whose driver has no secrets either (none here)."""

    def __init__(self, conn):
        self._conn = conn

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def listAllDomains(self, flags=0):
        return [Domain(d) for d in self._conn.listAllDomains(flags)]

    def lookupByName(self, name):
        return Domain(self._conn.lookupByName(name))

    def listAllSecrets(self, flags=0):
        return []

    def secretLookupByUUIDString(self, u):
        err = libvirt.libvirtError("no secret")
        err.get_error_code = lambda: libvirt.VIR_ERR_NO_SECRET
        raise err


class Firewall:
    def __init__(self):
        self.removed = []

    def remove_port(self, iid):
        self.removed.append(iid)


class Bridges:
    def __init__(self):
        self.released = []

    def network_lock(self, network_id):
        return contextlib.nullcontext()

    def release_network(self, network_id):
        self.released.append(network_id)


def _define(conn, iid, host, networks=""):
    ns = xmlconf.METADATA_NS
    dom = conn.defineXML(
        f"<domain type='test'><name>{iid}</name><memory>65536</memory>"
        f"<os><type>hvm</type></os><metadata><instance xmlns='{ns}'>"
        f"<host>{host}</host><networks>{networks}</networks></instance>"
        f"</metadata></domain>"
    )
    dom.create()


@pytest.fixture
def lv(config, tmp_path):
    config("instances_path", str(tmp_path / "instances"), group="libvirt")
    drv = libvirt_driver.LibvirtDriver("hv1")
    raw = libvirt.open("test:///default")
    drv._conn = Conn(raw)
    drv._firewall = Firewall()
    drv._networking = Bridges()
    for iid in (STALE, KEPT):
        _define(raw, iid, "hv1", NET if iid == STALE else "")
        os.makedirs(drv._path(iid))
        with open(drv._path(iid, "disk"), "w") as f:
            f.write("qcow2")
    # Another host's guest on the same libvirtd: not this agent's.
    _define(raw, OTHER, "hv2")
    yield drv
    for d in raw.listAllDomains():
        if d.name() in (STALE, KEPT, OTHER):
            if d.isActive():
                d.destroy()
            d.undefine()
    raw.close()


class Collector:
    """STALE now lives on hv2 (evacuated), KEPT on hv1."""

    def __init__(self, fail=0):
        self.fail = fail
        self.asked = []

    def expected_instances(self, ctxt, host, timeout=30):
        self.asked.append(host)
        if self.fail:
            self.fail -= 1
            raise TimeoutError("collector not answering")
        places = {"hv1": [KEPT], "hv2": [STALE]}[host]
        return {
            "instances": {
                i: {"status": "running", "power_state": "running"}
                for i in places
            }
        }


def test_stale_copies_go_before_rpc_and_the_first_heartbeat(
    lv, config, monkeypatch
):
    config("driver", "libvirt", group="hva")
    config("host", "hv1")
    config("metrics_interval", 0, group="hva")
    events = []

    class Started:
        def __init__(self, what):
            self.what = what

        def start(self):
            events.append(
                (
                    self.what,
                    sorted(lv.list_instances()),
                    lv.firewall.removed[:],
                )
            )

        def stop(self):
            pass

    monkeypatch.setattr(lv, "init_host", lambda: None)
    monkeypatch.setattr(service, "load_driver", lambda host: lv)
    monkeypatch.setattr(service.rpc, "get_notifier", lambda name: None)
    monkeypatch.setattr(
        service.rpc, "get_server", lambda *a, **kw: Started("rpc")
    )
    monkeypatch.setattr(service, "CollectorAPI", Collector)
    monkeypatch.setattr(
        service, "NotifyHeartbeat", lambda *a, **kw: Started("heartbeat")
    )
    components, _ = service.build_components()
    assert isinstance(components[0], startup.DestroyStaleCopies)
    launcher = Launcher("hva", components)
    launcher.start()
    try:
        # Every RPC server and the first heartbeat found the stale copy
        # gone, its firewall chains removed; KEPT and hv2's guest stay.
        assert [e[0] for e in events] == ["rpc", "heartbeat"]
        for _, listed, removed in events:
            assert listed == [KEPT] and removed == [STALE]
        assert components[0].destroyed == {"hv1": [STALE]}
        assert not os.path.exists(lv._path(STALE))
        assert os.path.exists(lv._path(KEPT, "disk"))
        assert lv.networking.released == [NET]
        names = {d.name() for d in lv.conn.listAllDomains()}
        assert {KEPT, OTHER} <= names and STALE not in names
    finally:
        launcher.stop()


def test_the_agent_waits_for_the_collector_then_gives_up(lv):
    mgr = HypervisorManager("hv1", lv, notifier=None)
    clock = [0.0]

    def sleep(s):
        clock[0] += s

    coll = Collector(fail=2)
    c = startup.DestroyStaleCopies(
        [mgr], coll, timeout=60, clock=lambda: clock[0], sleep=sleep
    )
    c.start()
    assert c.destroyed == {"hv1": [STALE]} and len(coll.asked) == 3

    coll = Collector(fail=10**6)
    c = startup.DestroyStaleCopies(
        [mgr], coll, timeout=10, clock=lambda: clock[0], sleep=sleep
    )
    with pytest.raises(startup.StaleCopiesUnknown, match="hv1.*10s"):
        c.start()
    assert sorted(lv.list_instances()) == [KEPT]


def test_in_memory_fake_hosts_skip_it(config, monkeypatch):
    config("driver", "fake", group="hva")
    monkeypatch.setattr(service.rpc, "get_notifier", lambda name: None)
    monkeypatch.setattr(service.rpc, "get_server", lambda *a, **kw: None)
    monkeypatch.setattr(service, "CollectorAPI", lambda: None)
    components, _ = service.build_components()
    assert not any(
        isinstance(c, startup.DestroyStaleCopies) for c in components
    )
