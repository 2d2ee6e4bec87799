"""`python -m arame.deploy.infra ensure`: RabbitMQ, MariaDB and libvirtd
answering (tools/test-all runs it before the tests)."""

import sys

from arame.deploy.infra import Libvirt, MariaDB, RabbitMQ

USAGE = "usage: python -m arame.deploy.infra ensure"


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if args != ["ensure"]:
        print(USAGE, file=sys.stderr)
        return 2
    for svc in (RabbitMQ(), MariaDB(), Libvirt()):
        started = svc.ensure_running()
        print(
            f"{type(svc).__name__}: {'started' if started else 'already running'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
