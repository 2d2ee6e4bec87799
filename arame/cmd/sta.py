import sys

from arame.agents.sta import service
from arame.cmd import daemon


def main() -> int:
    return daemon.run(service.BINARY, lambda: service.build_components()[0])


if __name__ == "__main__":
    sys.exit(main())
