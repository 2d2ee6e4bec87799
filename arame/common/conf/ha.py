from oslo_config import cfg

group = cfg.OptGroup(
    "ha",
    help="High availability of instances: evacuation of the instances of "
    "a hypervisor host that is down and fenced.",
)

opts = [
    cfg.BoolOpt(
        "auto_evacuate",
        mutable=True,
        default=False,
        help="Whether the scheduler evacuates a host on its own once it "
        "has missed its heartbeats for [DEFAULT] service_down_time (it "
        "fences the host first). Off: an operator runs `arame host "
        "evacuate`.",
    ),
    cfg.IntOpt(
        "max_hosts_evacuating",
        mutable=True,
        default=1,
        min=0,
        help="At most this many hosts are evacuated automatically at once, "
        "so that a network partition that makes many hosts look down "
        "cannot empty the cloud onto the rest. 0: none automatically.",
    ),
    cfg.IntOpt(
        "auto_evacuate_interval",
        mutable=True,
        default=10,
        min=1,
        help="Seconds between the scheduler's looks for down hosts to "
        "evacuate (one scheduler at a time looks).",
    ),
    cfg.IntOpt(
        "evacuate_timeout",
        mutable=True,
        default=900,
        min=30,
        help="Seconds an instance's evacuation may take (fencing, "
        "placement, re-export of its root volume or rebuild, spawn).",
    ),
    cfg.IntOpt(
        "fence_timeout",
        mutable=True,
        default=30,
        min=1,
        help="Seconds each fencing call (a storage node revoking the "
        "host's initiator, a BMC cutting its power) may take.",
    ),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)


def list_opts():
    return [(group.name, opts)]
