"""tools/single-host up|down|status: the real deployment on one machine.

RabbitMQ, MariaDB and every Arame daemon as its own process, API on port
9001, state (config, logs, pidfiles, generated passwords) in
/var/lib/arame/single-host. The admin password comes from
ARAME_ADMIN_PASSWORD (else one is generated and kept in the state dir).
"""

import argparse
import os
import sys

from arame.deploy import local

STATE_DIR = "/var/lib/arame/single-host"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="single-host", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["up", "down", "status"])
    p.add_argument("--state-dir", default=STATE_DIR)
    p.add_argument("--port", type=int, default=9001)
    p.add_argument("--drop", action="store_true",
                   help="with down: also delete the database and vhost")
    args = p.parse_args(argv)
    dep = local.LocalDeployment(
        "single", args.state_dir, api_port=args.port,
        admin_password=os.environ.get("ARAME_ADMIN_PASSWORD"))
    if args.command == "up":
        running = [s for s in dep.status() if s["alive"]]
        if running:
            print("already running: " + ", ".join(s["name"] for s in running)
                  + " (run down first)", file=sys.stderr)
            return 1
        dep.up()
        print(f"Arame is up: {dep.api_url}  (admin password: "
              f"{'$ARAME_ADMIN_PASSWORD' if os.environ.get('ARAME_ADMIN_PASSWORD') else os.path.join(args.state_dir, 'admin-password')})")
        print(f"config: {dep.config_path}  logs: {dep.log_dir}")
        return 0
    if args.command == "down":
        dep.down(drop=args.drop)
        print("Arame is down" + (" (database and vhost dropped)" if args.drop else ""))
        return 0
    rows = dep.status()
    if not rows:
        print("not running")
        return 3
    for s in rows:
        print(f"{s['name']:<12} {s['binary']:<17} pid {s['pid']:<8} "
              f"{'up' if s['alive'] else 'DEAD'}  {s['log']}")
    return 0 if all(s["alive"] for s in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
