"""Real guests: API -> scheduler -> hva (libvirt + QEMU) -> a guest that
boots the test image and proves on its serial console what reached it.

libvirtd runs in the lab namespace; everything the guest is plugged into
lives there. After delete nothing of the guest is left: no domain, no files.
"""

import os
import signal
import subprocess

import httpx
import pytest
import sqlalchemy as sa
from conftest import BOOT_TIMEOUT, virsh, wait_task, wait_until

pytestmark = pytest.mark.functional

MARK = "ARAME-TEST-IMAGE"


def console(vm_client, iid) -> str:
    return vm_client.instances.console(iid)["output"]


def wait_marker(
    vm_client, iid, text: str, count: int = 1, timeout: float = BOOT_TIMEOUT
) -> str:
    return wait_until(
        lambda: (
            console(vm_client, iid).count(text) >= count
            and console(vm_client, iid)
        ),
        timeout,
        f"{text!r} x{count} on {iid}'s console",
        interval=0.5,
    )


def instance_dir(dep, iid) -> str:
    return os.path.join(dep.conf["libvirt"]["instances_path"], iid)


def qemu_pid(iid) -> int:
    out = subprocess.run(
        ["pgrep", "-f", f"guest={iid},"], capture_output=True, text=True
    ).stdout.split()
    assert len(out) == 1, f"expected one qemu for {iid}: {out}"
    return int(out[0])


def test_guest_boots_reads_its_config_drive_and_obeys_every_action(
    vm_deployment, vm_client, vm_image
):
    kp = vm_client.key_pairs.create(name="vmkey")
    inst = vm_client.instances.create(
        name="vm1",
        flavor="small",
        image=vm_image,
        key_pair=kp["id"],
        user_data="#!/bin/sh\necho user-data-says-hi\n",
    )
    iid = inst["id"]
    task = wait_task(vm_client, inst["task_id"])
    assert [e["step"] for e in task["events"]] == [
        "schedule",
        "names",
        "spawn",
    ]

    out = wait_marker(vm_client, iid, f"{MARK} ready")
    assert f"{MARK} config-drive=found" in out
    assert f"{MARK} instance-id={iid}" in out
    assert f"{MARK} hostname=vm1" in out
    assert f"{MARK} ssh-key={kp['fingerprint']}" in out
    assert "user-data-says-hi" in out and f"{MARK} user-data=ran exit=0" in out

    # The probe decided the domain type; on these machines KVM hangs.
    xml = virsh("dumpxml", iid)
    host = vm_client.hosts.list()
    hv = next(h for h in host if h.get("hypervisor_type"))
    assert f"<domain type='{hv['hypervisor_type']}'" in xml
    assert vm_client.instances.get(iid)["status"] == "running"

    # stop: the ACPI button, and the guest powers itself off cleanly
    t = vm_client.instances.action(iid, "stop")
    wait_task(vm_client, t["task_id"])
    assert vm_client.instances.get(iid)["status"] == "stopped"
    assert virsh("domstate", iid).strip() == "shut off"
    assert f"{MARK} poweroff" in console(vm_client, iid)

    t = vm_client.instances.action(iid, "start")
    wait_task(vm_client, t["task_id"])
    wait_marker(vm_client, iid, f"{MARK} ready", count=2)

    t = vm_client.instances.action(iid, "reboot")
    wait_task(vm_client, t["task_id"])
    assert vm_client.instances.get(iid)["status"] == "running"
    wait_marker(vm_client, iid, f"{MARK} ready", count=3)

    d = vm_client.instances.delete(iid)
    wait_task(vm_client, d["task_id"])
    assert vm_client.instances.get(iid)["status"] == "terminated"
    assert iid not in virsh("list", "--all", "--name").split()
    assert not os.path.exists(instance_dir(vm_deployment, iid))


def test_a_killed_guest_is_restarted_by_ha_and_the_history_says_so(
    vm_client, vm_image
):
    inst = vm_client.instances.create(
        name="ha1", flavor="small", image=vm_image
    )
    iid = inst["id"]
    wait_task(vm_client, inst["task_id"])
    wait_marker(vm_client, iid, f"{MARK} ready")
    old = qemu_pid(iid)

    os.kill(old, signal.SIGKILL)
    history = wait_until(
        lambda: [
            t
            for t in vm_client.tasks.list(resource_id=iid)
            if t["action"] == "ha_restart"
        ],
        60,
        "an ha_restart task",
    )
    task = vm_client.tasks.get(history[0]["id"])
    assert task["status"] == "done"
    assert [(e["step"], e["status"]) for e in task["events"]] == [
        ("detected", "done"),
        ("restart", "done"),
    ]
    assert "restarted by HA" in task["events"][0]["message"]
    wait_marker(vm_client, iid, f"{MARK} ready", count=2)
    assert qemu_pid(iid) != old
    assert vm_client.instances.get(iid)["status"] == "running"
    wait_task(vm_client, vm_client.instances.delete(iid)["task_id"])


def test_without_ha_a_killed_guest_shows_stopped_with_the_reason(
    vm_client, vm_image
):
    inst = vm_client.instances.create(
        name="noha", flavor="small", image=vm_image, ha_enabled=False
    )
    iid = inst["id"]
    wait_task(vm_client, inst["task_id"])
    wait_until(
        lambda: virsh("domstate", iid).strip() == "running",
        30,
        "the domain running",
    )
    os.kill(qemu_pid(iid), signal.SIGKILL)
    shown = wait_until(
        lambda: (lambda i: i if i["status"] == "stopped" else None)(
            vm_client.instances.get(iid)
        ),
        60,
        "the instance stopped",
    )
    assert "HA is off" in shown["status_reason"]
    assert virsh("domstate", iid).strip() == "shut off"
    # Started again by the user, it runs.
    wait_task(vm_client, vm_client.instances.action(iid, "start")["task_id"])
    assert virsh("domstate", iid).strip() == "running"
    wait_task(vm_client, vm_client.instances.delete(iid)["task_id"])
    assert iid not in virsh("list", "--all", "--name").split()


@pytest.mark.parametrize(
    "name",
    [
        "a;reboot",
        "x$(id)",
        "new\nline",
        "..",
        "a..b",
        "x" * 300,
        "/etc/passwd",
        "-rf",
        "tap`x`",
    ],
)
def test_hostile_names_are_refused_before_anything_reaches_libvirt(
    vm_deployment, vm_client, vm_image, name
):
    before = virsh("list", "--all", "--name")
    r = httpx.post(
        f"{vm_deployment.api_url}/v1/instances",
        headers={"Authorization": f"Bearer {vm_client.token}"},
        json={"name": name, "flavor": "small", "image": vm_image},
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"]
    assert virsh("list", "--all", "--name") == before
    assert name not in {i["name"] for i in vm_client.instances.list()}


DNS_PROBE_SECONDS = 120


def _pinger(target_ip: str, dns_name: str, gateway: str) -> str:
    """User data: report on the console, every second, whether the guest
    can ping target_ip; and whether DNS resolves dns_name to it, tried for
    DNS_PROBE_SECONDS of the guest's uptime (its DHCP may still be retrying
    when this starts). A failure says what the last query got: a timeout
    (no answer reached the guest) is not an NXDOMAIN (dnsmasq lacks the
    name)."""
    return (
        "#!/bin/sh\n"
        "up() { cut -d. -f1 /proc/uptime; }\n"
        f"( end=$(( $(up) + {DNS_PROBE_SECONDS} )); while :; do\n"
        f"  out=$(nslookup {dns_name} {gateway} 2>&1)\n"
        f"  if echo \"$out\" | grep -qwF '{target_ip}'; then\n"
        "    echo PROBE dns ok; exit 0; fi\n"
        '  [ "$(up)" -ge "$end" ] && break\n'
        "  sleep 1\n"
        "done\n"
        'echo "PROBE dns fail:" $(echo "$out" | tail -n 3) ) &\n'
        "( while true; do\n"
        f"  if ping -c 1 -W 1 {target_ip} >/dev/null 2>&1; then\n"
        "    echo PROBE ping ok; else echo PROBE ping fail; fi\n"
        "  sleep 1\n"
        "done ) &\n"
    )


def _dns_evidence(dep, net: dict, name: str, out: str) -> str:
    """Why a guest's DNS probe failed, for the failure message: its console
    tail, what the network's dnsmasq logged about the name, and every link
    in the lab holding an address of the network (one too many, and
    dnsmasq's answers leave through the other one)."""
    log = os.path.join(dep.conf["nsa"]["state_path"], net["id"], "dnsmasq.log")
    try:
        with open(log, errors="replace") as f:
            lines = [line for line in f if name in line or "inotify" in line]
    except OSError as e:
        lines = [f"({e})\n"]
    addrs = subprocess.run(
        ["ip", "netns", "exec", "arame-lab", "ip", "-o", "-4", "addr"],
        capture_output=True,
        text=True,
    ).stdout
    prefix = net["cidr"].rsplit(".", 1)[0] + "."
    holders = [a for a in addrs.splitlines() if f" {prefix}" in a]
    return (
        f"\n--- console tail ---\n{out[-1500:]}"
        f"\n--- {log} about {name} ---\n{''.join(lines[-20:])}"
        f"--- links holding {net['cidr']} in arame-lab ---\n"
        + "\n".join(holders)
    )


def test_guests_get_their_address_and_name_and_security_groups_apply_live(
    vm_deployment, vm_client, vm_image
):
    """Three real guests on the shared network: DHCP and DNS from nsa's
    dnsmasq, same-group traffic passes, another group's is dropped until a
    rule naming that group is added (live, on the host), and cut again when
    it is removed."""
    net = next(n for n in vm_client.networks.list() if n["name"] == "default")
    default_sg = next(
        g for g in vm_client.security_groups.list() if g["name"] == "default"
    )
    other_sg = vm_client.security_groups.create(name="outsiders")

    a = vm_client.instances.create(name="vm-a", flavor="small", image=vm_image)
    a_ip = a["addresses"][0]["ip_address"]
    assert a["addresses"][0]["network_id"] == net["id"]
    fqdn = f"vm-a.{net['dns_domain']}"
    b = vm_client.instances.create(
        name="vm-b",
        flavor="small",
        image=vm_image,
        user_data=_pinger(a_ip, fqdn, net["gateway"]),
    )
    c = vm_client.instances.create(
        name="vm-c",
        flavor="small",
        image=vm_image,
        security_groups=[other_sg["id"]],
        user_data=_pinger(a_ip, fqdn, net["gateway"]),
    )
    for inst in (a, b, c):
        task = wait_task(vm_client, inst["task_id"])
        assert [e["step"] for e in task["events"]] == [
            "schedule",
            "names",
            "spawn",
        ]

    out_a = wait_marker(vm_client, a["id"], f"{MARK} ready")
    assert f"{MARK} ip={a_ip}/" in out_a
    assert f"{MARK} dhcp-hostname=vm-a" in out_a

    # Same group (default): B reaches A, and DNS answers A's name.
    wait_marker(vm_client, b["id"], "PROBE ping ok")
    # The probe always ends with its verdict: wait longer than it tries.
    out_b = wait_marker(
        vm_client, b["id"], "PROBE dns ", timeout=DNS_PROBE_SECONDS + 60
    )
    assert "PROBE dns ok" in out_b, _dns_evidence(
        vm_deployment, net, "vm-a", out_b
    )
    # Another group: C is dropped.
    wait_marker(vm_client, c["id"], "PROBE ping fail", count=3)
    assert "PROBE ping ok" not in console(vm_client, c["id"])

    # A rule naming C's group, applied live on the host.
    upd = vm_client.security_groups.update(
        default_sg["id"], rules_text=f"icmp:-1,-1,{other_sg['id']}\n"
    )
    wait_task(vm_client, upd["task_id"], timeout=60)
    wait_marker(vm_client, c["id"], "PROBE ping ok", timeout=30)

    # Removed again: C is cut off at once.
    upd = vm_client.security_groups.update(default_sg["id"], rules_text="")
    wait_task(vm_client, upd["task_id"], timeout=60)
    before = console(vm_client, c["id"]).count("PROBE ping fail")
    wait_marker(
        vm_client, c["id"], "PROBE ping fail", count=before + 3, timeout=30
    )
    tail = console(vm_client, c["id"]).rsplit("PROBE ping ok", 1)[1]
    assert tail.count("PROBE ping fail") >= 3

    for inst in (a, b, c):
        wait_task(vm_client, vm_client.instances.delete(inst["id"])["task_id"])
    # Nothing of theirs is left in the lab: no taps, no firewall chains.
    links = subprocess.run(
        ["ip", "netns", "exec", "arame-lab", "ip", "-o", "link"],
        capture_output=True,
        text=True,
    ).stdout
    rules = subprocess.run(
        ["ip", "netns", "exec", "arame-lab", "iptables-save"],
        capture_output=True,
        text=True,
    ).stdout
    for inst in (a, b, c):
        suffix = inst["id"][2:]
        assert f"tap{suffix}" not in links
        assert inst["id"] not in rules


def test_a_guest_boots_from_an_iscsi_clone_of_its_image(
    vm_deployment, vm_client
):
    """The raw test disk: cloned into a root volume on the storage node
    (ZFS), exported over iSCSI with CHAP to this host only, attached through
    qemu's own initiator; delete removes the guest, the export and the
    clone."""
    disk_image = next(
        i["id"]
        for i in vm_client.images.list()
        if i["name"] == "arame-test-disk"
    )
    inst = vm_client.instances.create(
        name="iscsi1", flavor="small", image=disk_image
    )
    iid = inst["id"]
    task = wait_task(vm_client, inst["task_id"])
    assert [e["step"] for e in task["events"]] == [
        "schedule",
        "volume",
        "names",
        "spawn",
    ]
    out = wait_marker(vm_client, iid, f"{MARK} ready")
    assert f"{MARK} hostname=iscsi1" in out

    xml = virsh("dumpxml", iid)
    assert "<disk type='network' device='disk'>" in xml
    assert "protocol='iscsi'" in xml and "<secret type='iscsi'" in xml
    pool = vm_deployment.conf["sta"]["pool"]
    with vm_deployment.engine().connect() as db:
        vol_id, secret = db.execute(
            sa.text("SELECT id, chap_secret FROM volumes WHERE root_of = :i"),
            {"i": iid},
        ).one()
    assert secret not in xml
    datasets = subprocess.run(
        ["zfs", "list", "-H", "-o", "name", "-r", pool],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert f"{pool}/volumes/{vol_id}" in datasets
    # A clone, not a copy: it holds almost nothing of its own.
    used = int(
        subprocess.run(
            [
                "zfs",
                "get",
                "-H",
                "-p",
                "-o",
                "value",
                "used",
                f"{pool}/volumes/{vol_id}",
            ],
            capture_output=True,
            text=True,
        ).stdout
    )
    assert used < 16 << 20

    # Stop and start: the guest comes back from the same volume.
    wait_task(vm_client, vm_client.instances.action(iid, "stop")["task_id"])
    wait_task(vm_client, vm_client.instances.action(iid, "start")["task_id"])
    wait_marker(vm_client, iid, f"{MARK} ready", count=2)

    d = vm_client.instances.delete(iid)
    task = wait_task(vm_client, d["task_id"])
    assert "volume" in [e["step"] for e in task["events"]]
    datasets = subprocess.run(
        ["zfs", "list", "-H", "-o", "name", "-r", pool],
        capture_output=True,
        text=True,
    ).stdout
    assert vol_id not in datasets
    targets = subprocess.run(
        [
            "tgtadm",
            "-C",
            str(vm_deployment.conf["sta"]["tgt_control_port"]),
            "--lld",
            "iscsi",
            "--op",
            "show",
            "--mode",
            "target",
        ],
        capture_output=True,
        text=True,
    ).stdout
    assert vol_id not in targets
    assert iid not in virsh("secret-list")
