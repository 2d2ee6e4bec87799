import sys

from arame.agents.base import agent_components
from arame.agents.bma.manager import BMAManager
from arame.agents.bma.rpcapi import TOPIC
from arame.cmd import daemon

BINARY = "arame-bma"


def main() -> int:
    return daemon.run(BINARY, lambda: agent_components(BINARY, TOPIC,
                                                       BMAManager()))


if __name__ == "__main__":
    sys.exit(main())
