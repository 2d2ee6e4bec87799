"""arame-all: the whole controller in one process, for a first look.

API, scheduler, collector and one of each agent (fake drivers, the L3
agent's routers in memory too) over the in-process bus, on a SQLite file.
The standard options still apply through --config-file ([DEFAULT]
transport_url, [database] connection, [api] host and port), so the same
command can also run against RabbitMQ and MariaDB.
"""

import os
import secrets
import sys

from oslo_log import log

from arame.common.conf import CONF, parse_args, set_messaging_defaults
from arame.common.service import Launcher

LOG = log.getLogger(__name__)


def _state_path() -> str:
    if os.access("/var/lib", os.W_OK):
        return "/var/lib/arame"
    return os.path.join(os.path.expanduser("~"), ".local", "share", "arame")


def _set_defaults() -> None:
    state = _state_path()
    CONF.set_default("state_path", state)
    CONF.set_default("transport_url", "fake://")
    CONF.set_default(
        "connection", f"sqlite:///{state}/arame.db", group="database"
    )
    CONF.set_default("host", "aio")
    # One process holds both ends of an image upload: a secret of its own
    # each run, and the data endpoint on any free port.
    CONF.set_default(
        "ticket_secret", secrets.token_urlsafe(32), group="storage_data"
    )
    CONF.set_default("data_port", 0, group="sta")
    # The fake host has an initiator, so volumes attach as on a real one.
    CONF.set_default("iscsi_initiator_address", "127.0.0.1", group="fake_hva")


def main(argv=None) -> int:
    set_messaging_defaults()
    _set_defaults()
    parse_args(sys.argv[1:] if argv is None else argv)
    os.makedirs(CONF.state_path, exist_ok=True)

    from arame.agents.bma import service as bma_service
    from arame.agents.hva import service as hva_service
    from arame.agents.l3 import service as l3_service
    from arame.agents.nsa import service as nsa_service
    from arame.agents.sta import service as sta_service
    from arame.api import service as api_service
    from arame.collector import service as collector_service
    from arame.common.db import migration, seed
    from arame.scheduler import service as scheduler_service

    migration.db_sync()
    password = os.environ.get("ARAME_ADMIN_PASSWORD")
    generated = password is None
    if generated:
        password = secrets.token_urlsafe(12)
    seed.bootstrap_admin(password, reset_password=not generated)
    seed.seed_flavors()
    image = seed.seed_test_image()
    seed.seed_default_network()
    if generated:
        LOG.warning(
            "ARAME_ADMIN_PASSWORD not set: if user admin is new, its "
            "password is %s",
            password,
        )

    components = (
        collector_service.build_components()
        + scheduler_service.build_components()
        + hva_service.build_components()[0]
        + sta_service.build_components()[0]
        + nsa_service.build_components()
        + l3_service.build_components()
        + bma_service.daemon_components()
        + api_service.build_components()
    )
    LOG.info(
        "arame-all: API on http://%s:%s, test image %s",
        CONF.api.host,
        CONF.api.port,
        image,
    )
    return Launcher("arame-all", components).run()


if __name__ == "__main__":
    sys.exit(main())
