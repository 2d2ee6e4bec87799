"""The multi-host lab (`tools/lab`, arame/deploy/lab): three hosts from this
checkout (the session's lab, conftest.arame_lab, with real storage on
h1), every host's daemons heartbeating through the API, one real
guest on each of the two hypervisor hosts (each host its own libvirtd),
both leased their address by the naming host (the controller: no
hypervisor there) and the second reaching the first over a VXLAN network
across the lab's underlay; `tools/lab down` leaves no namespace, process
or link.

The lab's names are fixed (namespaces lab-h1..., lab-sw; links alab-*):
one lab per machine, like tools/single-host. It never touches the
namespace arame-lab or the machine's libvirtd."""

import json
import subprocess

import pytest
from conftest import lab_console, tools_lab

from arame.deploy.lab import topology
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.functional

MARK = "ARAME-TEST-IMAGE"
BOOT_TIMEOUT = 180  # TCG on a loaded 2-core machine


@pytest.fixture(scope="module")
def lab(arame_lab):
    return arame_lab


@pytest.fixture(scope="module")
def client(lab_client):
    return lab_client


console = lab_console


def wait_marker(client, iid, text, timeout=BOOT_TIMEOUT) -> str:
    return wait_until(
        lambda: text in console(client, iid) and console(client, iid),
        timeout,
        f"{text!r} on {iid}'s console",
        interval=1,
    )


def pinger(target_ip: str) -> str:
    """User data: one line on the console per second, whether the guest
    pings target_ip."""
    return (
        "#!/bin/sh\n"
        "( while true; do\n"
        f"  if ping -c 1 -W 1 {target_ip} >/dev/null 2>&1; then\n"
        "    echo PROBE ping ok; else echo PROBE ping fail; fi\n"
        "  sleep 1\n"
        "done ) &\n"
    )


def boot_on(client, lab, host, **kw) -> dict:
    """A guest placed on `host`: every other hypervisor disabled while it
    is scheduled (PATCH /v1/hosts), enabled again after."""
    others = [
        h.name
        for h in lab.hosts
        if topology.COMPUTE in h.roles and h.name != host
    ]
    for name in others:
        client.hosts.disable(name, reason="test_lab: placing a guest")
    try:
        inst = client.instances.create(**kw)
        task = client.tasks.wait(inst["task_id"], timeout=BOOT_TIMEOUT)
        assert task["status"] == "done", task
    finally:
        for name in others:
            client.hosts.enable(name)
    inst = client.instances.get(inst["id"])
    assert inst["host"] == host, inst
    return inst


def test_every_host_reports_its_daemons(lab, client):
    assert lab.missing() == {}
    names = {h["name"] for h in client.hosts.list()}
    assert {"lab-h1", "lab-h2", "lab-h3"} <= names
    # Each host is its own machine: its own hostname and /etc/arame.
    for h in lab.hosts:
        assert lab.run_on(h, ["hostname"]).strip() == h.name
        conf = lab.run_on(h, ["cat", "/etc/arame/arame.conf"])
        assert f"host = {h.name}\n" in conf


def ports_of(lab, host, bridge) -> list[str]:
    shown = subprocess.run(
        ["ip", "-n", host.netns, "-j", "link", "show", "master", bridge],
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted(link["ifname"] for link in json.loads(shown.stdout or "[]"))


def test_guests_on_two_hosts_reach_each_other_across_the_underlay(lab, client):
    image = next(
        i["id"] for i in client.images.list() if i["name"] == "arame-test"
    )
    naming = next(h for h in lab.hosts if topology.NETWORK in h.roles)
    assert topology.COMPUTE not in naming.roles
    # A first, on a hypervisor that is not the naming host: its DHCP lease
    # comes from the naming host across the underlay, whose bridge nsa
    # made with the network's VXLAN port; no guest is there, ever.
    a = boot_on(
        client, lab, "lab-h2", name="lab-a", flavor="small", image=image
    )
    a_ip = a["addresses"][0]["ip_address"]
    out_a = wait_marker(client, a["id"], f"{MARK} ready")
    assert f"{MARK} ip={a_ip}/" in out_a
    net_id = a["addresses"][0]["network_id"]
    assert ports_of(lab, naming, net_id) == ["vx-" + net_id.split("-")[1]]
    b = boot_on(
        client,
        lab,
        "lab-h3",
        name="lab-b",
        flavor="small",
        image=image,
        user_data=pinger(a_ip),
    )
    assert b["addresses"][0]["network_id"] == a["addresses"][0]["network_id"]
    wait_marker(client, b["id"], "PROBE ping ok")

    # Each guest is its host's libvirtd's alone, its tap in its host.
    h2, h3 = lab.host("lab-h2"), lab.host("lab-h3")
    assert lab.virsh(h2, "list", "--name").stdout.split() == [a["id"]]
    assert lab.virsh(h3, "list", "--name").stdout.split() == [b["id"]]
    for host, inst in ((h2, a), (h3, b)):
        taps = lab.virsh(host, "domiflist", inst["id"]).stdout
        tap = taps.splitlines()[2].split()[0]
        shown = subprocess.run(
            ["ip", "-n", host.netns, "-o", "link", "show", tap],
            capture_output=True,
            text=True,
        )
        assert shown.returncode == 0, taps


def _running(pid: int) -> bool:
    """Alive and not a zombie (its parent may be gone without reaping)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.lab_down
def test_down_leaves_no_namespace_process_or_link(lab):
    pids = []
    for h in lab.hosts:
        sup = lab.supervisor(h)
        pids += [sup.get(n).pid for n in sup.names()]
    pids.append(lab.root.get("portal").pid)
    pids += lab.processes()  # qemu, dnsmasq: started by the daemons
    down = tools_lab("down", port=lab.api_port)
    assert down.returncode == 0, down.stdout + down.stderr
    assert topology.lab_netns() == []
    links = subprocess.run(
        ["ip", "-o", "link"], capture_output=True, text=True
    ).stdout
    assert " alab" not in links
    alive = [p for p in pids if p and _running(p)]
    assert alive == [], alive
    with open("/proc/self/mountinfo") as f:
        mounts = f.read()
    assert lab.lab_dir + "/ns" not in mounts
    # Real storage: no pool, dataset mount or tgtd of the lab's.
    assert lab.lab_dir + "/zfs" not in mounts
    assert lab.store.leftovers() == []
