from oslo_config import cfg

group = cfg.OptGroup("collector", help="State writer, reaper and reconciler.")

opts = [
    cfg.IntOpt(
        "reaper_interval",
        mutable=True,
        default=5,
        min=1,
        help="Seconds between passes of the reaper, which ends every "
        "task and resource past its deadline in error.",
    ),
    cfg.IntOpt(
        "grace_period",
        mutable=True,
        default=5,
        min=0,
        help="Seconds past a task's deadline before the reaper acts, "
        "so the flow that owns it can finish its own failure.",
    ),
    cfg.IntOpt(
        "invariants_interval",
        mutable=True,
        default=60,
        min=0,
        help="Seconds between checks of what the records must agree on "
        "(each host's claimed capacity, each account's quota usage, one "
        "usage open and close per instance that ran); any drift found is "
        "repaired and logged as a warning. 0 turns the check off.",
    ),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)


def list_opts():
    return [(group.name, opts)]
