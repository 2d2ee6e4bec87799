"""tools/lab up|down|status [--hosts N] [--ha] [--storage zfs], and
tools/lab kill-host|start-host lab-hN: see arame.deploy.lab."""

import argparse
import os
import sys

from arame.deploy.infra.commands import InfraError
from arame.deploy.lab import lab as lab_mod
from arame.deploy.lab import storage, topology


def _ha_modules() -> str | None:
    """Why --ha cannot run here, or None: it needs the clustered engines'
    modules (arame/deploy/infra/rabbit_cluster.py, galera.py)."""
    try:
        from arame.deploy.infra import galera, rabbit_cluster  # noqa: F401
    except ImportError as e:
        return f"the clustered engines are not in this checkout ({e})"
    return None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="lab",
        description=lab_mod.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "command",
        choices=["up", "down", "status", "kill-host", "start-host"],
        help="kill-host: SIGKILL to every process of a host (a power "
        "cut); start-host: its daemons again (it boots)",
    )
    p.add_argument("host", nargs="?", help="(kill-host, start-host) lab-hN")
    p.add_argument("--hosts", type=int, default=3, help="(up) at least 2")
    p.add_argument("--lab-dir", default=lab_mod.LAB_DIR)
    p.add_argument("--port", type=int, default=lab_mod.API_PORT)
    p.add_argument(
        "--hva-on-controller",
        action="store_true",
        help="(up) the controller is a hypervisor too",
    )
    p.add_argument(
        "--ha",
        action="store_true",
        help="(up) on the 3-node RabbitMQ and Galera clusters",
    )
    p.add_argument(
        "--storage",
        choices=storage.BACKENDS,
        default="fake",
        help="(up) zfs: sta on this machine's zfs-fuse (a pool of the "
        "lab's) and a tgtd of the storage host's own; raw images boot "
        "from iSCSI clones",
    )
    args = p.parse_args(argv)
    password = os.environ.get("ARAME_ADMIN_PASSWORD")
    try:
        if args.command == "up":
            if args.ha:
                why = _ha_modules()
                if why:
                    print(f"lab: --ha refused: {why}", file=sys.stderr)
                    return 2
            lab = lab_mod.Lab(
                args.lab_dir,
                hosts=args.hosts,
                api_port=args.port,
                admin_password=password,
                hva_on_controller=args.hva_on_controller,
                ha=args.ha,
                storage=args.storage,
            )
            lab.up()
            _print_hosts(lab)
            print(
                f"Arame lab is up: {lab.api_url} (admin password: "
                + (
                    "$ARAME_ADMIN_PASSWORD"
                    if password
                    else os.path.join(lab.lab_dir, "secrets/admin-password")
                )
                + f"); files and logs in {lab.lab_dir}/h*/"
            )
            return 0
        lab = lab_mod.Lab.existing(
            args.lab_dir, api_port=args.port, admin_password=password
        )
        if args.command in ("kill-host", "start-host"):
            return _host_power(lab, args.command, args.host)
        if args.command == "down":
            left = lab.down()
            if left:
                print("lab: left behind: " + ", ".join(left), file=sys.stderr)
                return 1
            print("Arame lab is down")
            return 0
        return _status(lab)
    except (InfraError, ValueError) as e:
        print(f"lab: {e}", file=sys.stderr)
        return 1


def _host_power(lab, command: str, name: str | None) -> int:
    names = [h.name for h in lab.hosts]
    if name not in names:
        print(
            f"lab: {command} needs one of {', '.join(names)}", file=sys.stderr
        )
        return 2
    host = lab.host(name)
    if command == "kill-host":
        pids = lab.kill_host(host)
        print(f"{name}: killed {len(pids)} processes")
    else:
        sup = lab.supervisor(host)
        alive = [n for n in sup.names() if sup.get(n).alive()]
        if alive:
            print(f"lab: {name} runs {', '.join(alive)}", file=sys.stderr)
            return 1
        lab.start_host(host)
        print(f"{name}: daemons started; it reports up once hva is")
    return 0


def _print_hosts(lab) -> None:
    for h in lab.hosts:
        print(
            f"{h.name:<8} {h.mgmt_ip:<15} {','.join(h.roles):<20} "
            f"{lab.paths(h).path('etc')}"
        )


def _status(lab) -> int:
    if not topology.lab_netns():
        print("not running")
        return 3
    if lab.admin_password is None:
        lab.admin_password = lab._secret("admin-password")
    st = lab.status()
    ok = True
    for r in st["daemons"]:
        ok &= r["alive"]
        print(
            f"{r['host']:<8} {r['name']:<12} pid {r['pid'] or '-':<8} "
            f"{'up' if r['alive'] else 'DEAD':<5} {r['log']}"
        )
    if st["hosts"] is None:
        print(f"API: no answer ({st['api_error']})")
        return 1
    print("\nheartbeats (GET /v1/hosts):")
    for item in st["hosts"]:
        services = ", ".join(
            f"{s['binary']} {s['state']}"
            + (
                f" {s['heartbeat_age_s']:.0f}s"
                if s.get("heartbeat_age_s") is not None
                else ""
            )
            for s in item["services"]
        )
        print(f"{item['name']:<8} {item['state']:<5} {services}")
    missing = lab.missing()
    for host, binaries in sorted(missing.items()):
        print(f"{host}: not reporting: {', '.join(sorted(binaries))}")
    return 0 if ok and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
