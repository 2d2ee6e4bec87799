"""arame-manage: operator commands that work on the database directly.

arame-manage [--config-file F] db sync
arame-manage [--config-file F] db version
arame-manage [--config-file F] bootstrap --admin-password X
arame-manage [--config-file F] seed
arame-manage [--config-file F] image build-test [--output DIR] [--force]
arame-manage [--config-file F] image install-test
"""

import argparse
import os
import sys

from arame.common.conf import parse_args


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="arame-manage",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    db = sub.add_parser("db", help="schema migrations")
    db.add_argument("action", choices=["sync", "version"])
    b = sub.add_parser(
        "bootstrap", help="create account a-admin and user admin"
    )
    b.add_argument(
        "--admin-password",
        default=os.environ.get("ARAME_ADMIN_PASSWORD"),
        help="(or ARAME_ADMIN_PASSWORD)",
    )
    b.add_argument("--admin-username", default="admin")
    b.add_argument(
        "--reset-password",
        action="store_true",
        help="set the password of an existing admin (and revoke its tokens)",
    )
    sub.add_parser("seed", help="default flavors and the test image")
    img = sub.add_parser("image", help="images made on this machine")
    img_sub = img.add_subparsers(dest="image_command", required=True)
    bt = img_sub.add_parser(
        "build-test",
        help="build the test image offline "
        "(kernel, initramfs, kernel.tar, disk.raw)",
    )
    bt.add_argument(
        "--output", metavar="DIR", help="(default: <state_path>/test-image)"
    )
    bt.add_argument(
        "--force",
        action="store_true",
        help="rebuild even if the directory is up to date",
    )
    img_sub.add_parser(
        "install-test",
        help="build the test image if needed "
        "and put its kernel.tar in [libvirt] image_store_path "
        "as the bytes of the seeded image `arame-test`",
    )
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

    if args.command == "image":
        if args.image_command == "install-test":
            return _install_test_image()
        return _build_test_image(args)
    from arame.common.db import migration, seed

    if args.command == "db":
        if args.action == "sync":
            migration.db_sync()
            print(f"database at revision {migration.current()}")
        else:
            print(migration.current() or "empty")
    elif args.command == "bootstrap":
        if not args.admin_password:
            print(
                "error: --admin-password or ARAME_ADMIN_PASSWORD is required",
                file=sys.stderr,
            )
            return 2
        uid = seed.bootstrap_admin(
            args.admin_password, args.admin_username, args.reset_password
        )
        print(
            f"account {seed.ADMIN_ACCOUNT}, user {args.admin_username} ({uid})"
        )
    elif args.command == "seed":
        added = seed.seed_flavors()
        image = seed.seed_test_image()
        network = seed.seed_default_network()
        print(
            f"flavors added: {', '.join(added) or 'none'}; test image "
            f"{image}; shared network {network}"
        )
    return 0


def _build_test_image(args) -> int:
    from arame.common.conf import CONF
    from arame.deploy import testimage

    output = args.output or os.path.join(CONF.state_path, "test-image")
    try:
        result = testimage.build(output, force=args.force)
    except testimage.BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    state = "up to date" if result["cached"] else "built"
    print(f"test image {state}: kernel {result['kernel_version']}")
    for name, path in result["paths"].items():
        print(f"{name}: {path}")
    return 0


def _install_test_image() -> int:
    """Until a storage node holds image bytes, the hypervisor reads them from
    a local image store: this fills it for the seeded test image."""
    from arame.common.conf import CONF
    from arame.common.db import seed
    from arame.deploy import images, testimage

    try:
        built = testimage.build(os.path.join(CONF.state_path, "test-image"))
    except testimage.BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for spec, name in (
        (seed.TEST_IMAGE, "kernel.tar"),
        (seed.TEST_DISK_IMAGE, "disk.raw"),
    ):
        image_id = seed.seed_test_image(spec)
        facts = images.install_and_record(
            CONF.libvirt.image_store_path, image_id, built["paths"][name]
        )
        print(
            f"{spec['name']} {image_id}: {facts['size_bytes']} bytes, "
            f"sha256 {facts['sha256']} in {CONF.libvirt.image_store_path}"
        )
        if spec is seed.TEST_DISK_IMAGE and CONF.sta.backend != "fake":
            # Where a storage node takes it from until images are uploaded.
            path = images.stage_for_storage(
                CONF.sta.import_dirs[0], image_id, built["paths"][name]
            )
            print(f"{spec['name']} staged for the storage node: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
