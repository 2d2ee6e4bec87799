from oslo_config import cfg

group = cfg.OptGroup(
    "network",
    help="Tenant networks: address plans, segment ids, security groups.",
)

opts = [
    cfg.IntOpt(
        "vxlan_vni_min",
        default=1000,
        min=1,
        max=16777215,
        help="Lowest VXLAN network identifier given out automatically.",
    ),
    cfg.IntOpt(
        "vxlan_vni_max",
        default=16777215,
        min=1,
        max=16777215,
        help="Highest VXLAN network identifier given out automatically.",
    ),
    cfg.IntOpt(
        "vlan_id_min",
        default=1,
        min=1,
        max=4094,
        help="Lowest VLAN id given out automatically.",
    ),
    cfg.IntOpt(
        "vlan_id_max",
        default=4094,
        min=1,
        max=4094,
        help="Highest VLAN id given out automatically.",
    ),
    cfg.IntOpt(
        "min_prefix_length",
        default=16,
        min=8,
        max=30,
        help="Largest network accepted (IPv4 prefix length): one "
        "request must not take a whole /8.",
    ),
    cfg.IntOpt(
        "max_prefix_length",
        default=29,
        min=8,
        max=30,
        help="Smallest network accepted (IPv4 prefix length).",
    ),
    cfg.IntOpt(
        "vxlan_mtu",
        default=1450,
        min=576,
        max=9000,
        help="Default MTU of a VXLAN network (the 50-byte "
        "encapsulation inside a 1500-byte underlay).",
    ),
    cfg.IntOpt(
        "vlan_mtu",
        default=1500,
        min=576,
        max=9000,
        help="Default MTU of a VLAN network.",
    ),
    cfg.IntOpt(
        "security_group_refresh_timeout",
        default=300,
        min=1,
        help="Deadline in seconds of the task that applies a "
        "security group's new rules on every host.",
    ),
    cfg.IntOpt(
        "router_task_timeout",
        default=120,
        min=1,
        help="Deadline in seconds of the task that applies a router "
        "(or removes it) on its L3 host.",
    ),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)


def list_opts():
    return [(group.name, opts)]
