import sys

from arame.agents.base import agent_components
from arame.agents.nsa.manager import NSAManager
from arame.agents.nsa.rpcapi import TOPIC
from arame.cmd import daemon

BINARY = "arame-nsa"


def main() -> int:
    return daemon.run(BINARY, lambda: agent_components(BINARY, TOPIC,
                                                       NSAManager()))


if __name__ == "__main__":
    sys.exit(main())
