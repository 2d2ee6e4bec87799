"""arame-manage: operator commands that work on the database directly.

    arame-manage [--config-file F] db sync
    arame-manage [--config-file F] db version
    arame-manage [--config-file F] bootstrap --admin-password X
    arame-manage [--config-file F] seed
"""

import argparse
import os
import sys

from arame.common.conf import parse_args


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="arame-manage", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    db = sub.add_parser("db", help="schema migrations")
    db.add_argument("action", choices=["sync", "version"])
    b = sub.add_parser("bootstrap", help="create account a-admin and user admin")
    b.add_argument("--admin-password", default=os.environ.get("ARAME_ADMIN_PASSWORD"),
                   help="(or ARAME_ADMIN_PASSWORD)")
    b.add_argument("--admin-username", default="admin")
    b.add_argument("--reset-password", action="store_true",
                   help="set the password of an existing admin (and revoke "
                        "its tokens)")
    sub.add_parser("seed", help="default flavors and the test image")
    return p


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # oslo.config takes --config-file/--config-dir; the rest is ours.
    oslo_args, rest, it = [], [], iter(argv)
    for a in it:
        if a in ("--config-file", "--config-dir"):
            oslo_args += [a, next(it, "")]
        elif a.startswith(("--config-file=", "--config-dir=", "--debug")):
            oslo_args.append(a)
        else:
            rest.append(a)
    args = _parser().parse_args(rest)
    parse_args(oslo_args)

    from arame.common.db import migration, seed
    if args.command == "db":
        if args.action == "sync":
            migration.db_sync()
            print(f"database at revision {migration.current()}")
        else:
            print(migration.current() or "empty")
    elif args.command == "bootstrap":
        if not args.admin_password:
            print("error: --admin-password or ARAME_ADMIN_PASSWORD is required",
                  file=sys.stderr)
            return 2
        uid = seed.bootstrap_admin(args.admin_password, args.admin_username,
                                   args.reset_password)
        print(f"account {seed.ADMIN_ACCOUNT}, user {args.admin_username} ({uid})")
    elif args.command == "seed":
        added = seed.seed_flavors()
        image = seed.seed_test_image()
        print(f"flavors added: {', '.join(added) or 'none'}; test image {image}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
