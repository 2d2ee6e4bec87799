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
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)


def list_opts():
    return [(group.name, opts)]
