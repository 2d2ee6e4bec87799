import sys

from arame.agents.l3 import service
from arame.cmd import daemon


def main() -> int:
    return daemon.run(service.BINARY, service.build_components)


if __name__ == "__main__":
    sys.exit(main())
