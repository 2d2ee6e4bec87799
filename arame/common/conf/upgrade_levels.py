"""[upgrade_levels]: the newest RPC API version sent to each kind of
service, so a daemon upgraded first keeps talking to older ones during a
rolling upgrade (doc/source/admin/upgrades.rst)."""

from oslo_config import cfg

group = cfg.OptGroup(
    "upgrade_levels",
    help="Version caps of the messages this daemon sends to each kind of "
    'service: a version ("1.3") pins it; "auto" uses the oldest '
    "version the running services of that kind report.",
)

#: the kinds of service a daemon sends RPC messages to (their topics)
KINDS = ("scheduler", "collector", "hva", "sta", "nsa", "bma", "l3")


def _cap(kind: str) -> cfg.StrOpt:
    return cfg.StrOpt(
        kind,
        default="auto",
        mutable=True,
        # "auto" or MAJOR.MINOR: a typo must stop the daemon, not be
        # taken as a version nobody serves.
        regex=r"^(auto|\d+\.\d+)$",
        help=f"Newest RPC API version sent to {kind} services: "
        f'"auto" (the oldest version the running {kind} services '
        "report; the newest this daemon knows when none runs or this "
        'daemon has no database), or a version such as "1.3" (pin it '
        "before upgrading the first service, unset it after the last).",
    )


opts = [_cap(kind) for kind in KINDS] + [
    cfg.IntOpt(
        "auto_refresh_interval",
        default=60,
        min=1,
        mutable=True,
        help='Seconds an "auto" cap is kept before the services table '
        "is read again: a service upgraded (or stopped) changes the cap "
        "within this long.",
    ),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)


def list_opts():
    return [(group.name, opts)]
