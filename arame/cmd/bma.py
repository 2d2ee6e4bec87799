import sys

from arame.agents.bma import service
from arame.cmd import daemon


def main() -> int:
    return daemon.run(service.BINARY, service.daemon_components)


if __name__ == "__main__":
    sys.exit(main())
