"""The machine-level services Arame needs on one host: RabbitMQ, MariaDB
and libvirtd.

Started as background processes when they are not already answering (these
machines have no systemd), and carved up per deployment: a vhost on the
broker, a database and a user on MariaDB. libvirtd runs inside the lab
network namespace, so that every tap, bridge and firewall rule of a test or
single-host guest lives there and no guest traffic reaches the host's own
network.

`python -m arame.deploy.infra ensure` starts whichever is not answering
(__main__.py).
"""

from arame.deploy.infra.commands import InfraError, port_open, run
from arame.deploy.infra.labnet import LAB_NETNS, LAB_UNDERLAY
from arame.deploy.infra.libvirtd import Libvirt
from arame.deploy.infra.mariadb import MariaDB
from arame.deploy.infra.rabbitmq import RabbitMQ

# bench/lib/broker.py runs rabbitmqctl through the old private name.
_run = run

__all__ = [
    "LAB_NETNS",
    "LAB_UNDERLAY",
    "InfraError",
    "Libvirt",
    "MariaDB",
    "RabbitMQ",
    "port_open",
    "run",
]
