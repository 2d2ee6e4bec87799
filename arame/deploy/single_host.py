"""tools/single-host up|down|status: the real deployment on one machine.

RabbitMQ, MariaDB, libvirtd and every Arame daemon as its own process, API
on port 9001, state (config, logs, pidfiles, generated passwords) in
/var/lib/arame/single-host. The admin password comes from
ARAME_ADMIN_PASSWORD (else one is generated and kept in the state dir).

Every agent runs its real driver: guests under libvirt + QEMU (the test
image seeded as `arame-test`, and as the bootable disk `arame-test-disk`
whose instances boot from a ZFS clone over iSCSI), DHCP and DNS from
dnsmasq, volumes in a ZFS pool `arame` (zfs-fuse, on a sparse file in the
state dir) exported by tgtd. libvirtd, tgtd's portal, dnsmasq, the bridges
and the firewall rules live in the lab network namespace `arame-lab`, whose
VXLAN underlay is a veth pair of its own, so guest traffic never reaches
this machine's network. Routers are namespaces of their own plugged into
the lab's bridges; the external network's far side is the namespace
`arame-outside` (203.0.113.1/24), and `up` makes the external network
`public` on it (203.0.113.0/24, floating addresses from .10 to .250):
a guest given one is reached with `ip netns exec arame-outside ssh ...`.
`--fake-hva` runs in-memory agents instead.
"""

import argparse
import os
import sys

import httpx

from arame.deploy import infra, local
from arame.deploy.infra import outside

STATE_DIR = "/var/lib/arame/single-host"


def real_hva_conf() -> dict:
    """Real drivers for every agent: guests under QEMU, DHCP/DNS from
    dnsmasq, root volumes on ZFS over iSCSI, all plumbed in the lab."""
    lab_ip = infra.LAB_UNDERLAY[1].split("/")[0]
    return {
        "hva": {"driver": "libvirt"},
        "libvirt": {
            "plumbing_netns": infra.LAB_NETNS,
            # qemu runs unprivileged: guest files outside the
            # state dir, which holds secrets (0700).
            "instances_path": "/var/lib/arame/instances",
            "image_store_path": "/var/lib/arame/images",
            "iscsi_initiator_address": lab_ip,
        },
        "hva_networking": {"underlay_device": infra.LAB_UNDERLAY[0]},
        # dnsmasq drops privileges and rereads its files: 0755 path.
        "nsa": {
            "driver": "dnsmasq",
            "netns": infra.LAB_NETNS,
            "state_path": "/var/lib/arame/nsa",
        },
        # Routers in namespaces of their own, their veths into the lab's
        # bridges; the external network `public` reaches the namespace
        # arame-outside (203.0.113.1, infra/outside.py).
        "l3": {
            "driver": "netns",
            "netns": infra.LAB_NETNS,
            "physical_networks": (
                f"{outside.PHYSICAL_NETWORK}:{outside.LAB_DEV}"
            ),
        },
        "sta": {
            "backend": "zfs",
            "target": "tgt",
            "pool": "arame",
            "pool_size_gb": 50,
            "iscsi_address": lab_ip,
            "iscsi_port": 3260,
            "tgt_control_port": 3260,
            "import_dirs": "/var/lib/arame/sta/import",
        },
    }


PUBLIC = {
    "name": "public",
    "external": True,
    "segmentation": "flat",
    "physical_network": outside.PHYSICAL_NETWORK,
    "cidr": outside.CIDR,
    "gateway": outside.UPSTREAM.split("/")[0],
    "dhcp_ranges": [["203.0.113.10", "203.0.113.250"]],
    "dns_domain": "public.arame.test",
}


def ensure_public_network(dep: local.LocalDeployment) -> str:
    """The external network `public` on the outside namespace, made once
    (an `up` after a `down` finds it in the database)."""
    headers = {"Authorization": f"Bearer {dep.token()}"}
    with httpx.Client(base_url=dep.api_url, headers=headers, timeout=30) as c:
        found = c.get("/v1/networks", params={"name": PUBLIC["name"]})
        found.raise_for_status()
        for n in found.json()["items"]:
            if n["name"] == PUBLIC["name"] and n.get("external"):
                return n["id"]
        made = c.post("/v1/networks", json=PUBLIC)
        if made.status_code != 201:
            raise RuntimeError(
                f"could not make the external network public: "
                f"{made.status_code} {made.text}"
            )
        return made.json()["id"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="single-host",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("command", choices=["up", "down", "status"])
    p.add_argument("--state-dir", default=STATE_DIR)
    p.add_argument("--port", type=int, default=9001)
    p.add_argument(
        "--drop",
        action="store_true",
        help="with down: also delete the database and vhost",
    )
    p.add_argument(
        "--fake-hva",
        action="store_true",
        help="with up: the in-memory hypervisor, no real guests",
    )
    args = p.parse_args(argv)
    dep = local.LocalDeployment(
        "single",
        args.state_dir,
        api_port=args.port,
        admin_password=os.environ.get("ARAME_ADMIN_PASSWORD"),
        conf=None if args.fake_hva else real_hva_conf(),
    )
    if args.command == "up":
        running = [s for s in dep.status() if s["alive"]]
        if running:
            print(
                "already running: "
                + ", ".join(s["name"] for s in running)
                + " (run down first)",
                file=sys.stderr,
            )
            return 1
        dep.up()
        if not args.fake_hva:
            ensure_public_network(dep)
        print(
            f"Arame is up: {dep.api_url}  (admin password: "
            f"{'$ARAME_ADMIN_PASSWORD' if os.environ.get('ARAME_ADMIN_PASSWORD') else os.path.join(args.state_dir, 'admin-password')})"
        )
        print(f"config: {dep.config_path}  logs: {dep.log_dir}")
        return 0
    if args.command == "down":
        dep.down(drop=args.drop)
        print(
            "Arame is down"
            + (" (database and vhost dropped)" if args.drop else "")
        )
        return 0
    rows = dep.status()
    if not rows:
        print("not running")
        return 3
    for s in rows:
        print(
            f"{s['name']:<12} {s['binary']:<17} pid {s['pid']:<8} "
            f"{'up' if s['alive'] else 'DEAD'}  {s['log']}"
        )
    return 0 if all(s["alive"] for s in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
