import sys

from arame.cmd import daemon
from arame.scheduler import service


def main() -> int:
    return daemon.run(service.BINARY, service.build_components)


if __name__ == "__main__":
    sys.exit(main())
