import sys

from arame.agents.base import agent_components
from arame.agents.sta.manager import STAManager
from arame.agents.sta.rpcapi import TOPIC
from arame.cmd import daemon

BINARY = "arame-sta"


def main() -> int:
    return daemon.run(BINARY, lambda: agent_components(BINARY, TOPIC,
                                                       STAManager()))


if __name__ == "__main__":
    sys.exit(main())
