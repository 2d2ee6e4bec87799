"""Configuration: every option Arame reads, registered on the global CONF.

oslo.messaging registers its own groups on the same object (it needs the global
CONF: with a private ConfigOpts its first call fails), so we use it too.
"""

from oslo_config import cfg

from arame.common.conf import (api, auth, bma, collector, database, hva,
                               hva_networking, network, nsa, quota,
                               scheduler, service, sta)

CONF = cfg.CONF

_MODULES = (service, database, api, auth, scheduler, collector, hva,
            hva_networking, network, nsa, sta, bma, quota)

for _mod in _MODULES:
    _mod.register(CONF)


def set_lib_defaults():
    """Entry point (oslo.config.opts.defaults) so that the generated sample
    shows the defaults our daemons really use (exchange `arame`)."""
    import oslo_messaging
    oslo_messaging.set_transport_defaults("arame")


def list_opts():
    """Entry point for oslo-config-generator (etc/arame/arame.conf.sample)."""
    return [(group, opts) for mod in _MODULES for group, opts in mod.list_opts()]


def parse_args(argv: list[str], default_config_files: list[str] | None = None):
    """Read options from the command line (--config-file, --config-dir) and
    set up logging; every daemon and command starts here."""
    from oslo_log import log

    from arame import __version__
    from arame.common.rpc import transport

    transport.set_defaults()
    if not getattr(parse_args, "_log_registered", False):
        log.register_options(CONF)
        parse_args._log_registered = True
    CONF(argv, project="arame", version=__version__,
         default_config_files=default_config_files)
    log.setup(CONF, "arame")
