"""Configuration: every option Arame reads, registered on the global CONF.

oslo.messaging registers its own groups on the same object (it needs the global
CONF: with a private ConfigOpts its first call fails), so we use it too.
"""

from oslo_config import cfg
from oslo_log import log

from arame import __version__
from arame.common.conf import (
    api,
    auth,
    bma,
    collector,
    database,
    ha,
    hva,
    hva_metrics,
    hva_networking,
    l3,
    network,
    notifications,
    nsa,
    quota,
    scheduler,
    service,
    sta,
    upgrade_levels,
)

CONF = cfg.CONF

_MODULES = (
    service,
    database,
    api,
    auth,
    scheduler,
    collector,
    ha,
    hva,
    hva_metrics,
    hva_networking,
    network,
    nsa,
    l3,
    sta,
    bma,
    quota,
    notifications,
    upgrade_levels,
)

for _mod in _MODULES:
    _mod.register(CONF)


def set_lib_defaults():
    """Entry point (oslo.config.opts.defaults) so that the generated sample
    shows the defaults our daemons really use (exchange `arame`)."""
    # Here, not at the top: importing oslo.messaging selects oslo.service's
    # backend, and reading the options alone must not (arame.cmd does).
    from arame.common.conf import messaging

    messaging.set_lib_defaults()


def set_messaging_defaults():
    """Our defaults for oslo.messaging's options, registered on CONF: before
    any of them is given another default or read."""
    from arame.common.conf import messaging  # see set_lib_defaults

    messaging.set_defaults(CONF)


def list_opts():
    """Entry point for oslo-config-generator (etc/arame/arame.conf.sample)."""
    return [
        (group, opts) for mod in _MODULES for group, opts in mod.list_opts()
    ]


def parse_args(argv: list[str], default_config_files: list[str] | None = None):
    """Read options from the command line (--config-file, --config-dir) and
    set up logging; every daemon and command starts here."""
    set_messaging_defaults()
    if not getattr(parse_args, "_log_registered", False):
        log.register_options(CONF)
        parse_args._log_registered = True
    CONF(
        argv,
        project="arame",
        version=__version__,
        default_config_files=default_config_files,
    )
    log.setup(CONF, "arame")
