from oslo_config import cfg

group = cfg.OptGroup(
    "database", help="Where the controller keeps its records."
)

opts = [
    cfg.StrOpt(
        "connection",
        secret=True,
        default="sqlite:////var/lib/arame/arame.db",
        help="SQLAlchemy URL: mysql+pymysql://user:pw@host/arame for "
        "deployments, sqlite:///path for the all-in-one.",
    ),
    cfg.IntOpt(
        "pool_size",
        default=20,
        min=1,
        help="Connections kept open per process (MySQL).",
    ),
    cfg.IntOpt(
        "max_overflow",
        default=40,
        min=0,
        help="Extra connections a process may open under load.",
    ),
    cfg.BoolOpt("echo", default=False, help="Log every SQL statement."),
    cfg.FloatOpt(
        "retry_seconds",
        default=20.0,
        min=0,
        help="How long a transaction that met a deadlock, a lock wait "
        "timeout or a lost connection (a failover) is tried again, with "
        "jittered backoff, before the request gets a 503.",
    ),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)


def list_opts():
    return [(group.name, opts)]
