from oslo_config import cfg

group = cfg.OptGroup("auth", help="Tokens and passwords.")

opts = [
    cfg.StrOpt(
        "token_secret",
        secret=True,
        help="Key that signs tokens. Unset: one is generated on first "
        "use and kept in the database, so every arame-api process "
        "of the cloud shares it.",
    ),
    cfg.IntOpt(
        "token_ttl", default=3600, min=60, help="Seconds a token stays valid."
    ),
    cfg.FloatOpt(
        "user_cache_seconds",
        default=30.0,
        min=0,
        help="How long an API process keeps what a request's token needs "
        "of its user (account, role, enabled, token generation) instead "
        "of reading it on every request (0: read every time). A change "
        "that revokes tokens (password, role, disabling a user or an "
        "account) drops the entry at once in the process that made it "
        "and, through the bus, in every other API process; this bound "
        "only matters if that message is lost.",
    ),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)


def list_opts():
    return [(group.name, opts)]
