"""The shape every daemon's main() shares."""

import sys

from oslo_log import log

from arame.common.conf import parse_args
from arame.common.service import Launcher

LOG = log.getLogger(__name__)


def run(name: str, build_components, argv=None) -> int:
    parse_args(sys.argv[1:] if argv is None else argv)
    launcher = Launcher(name, build_components())
    return launcher.run()
