from oslo_config import cfg

group = cfg.OptGroup(
    "l3",
    help="L3 agent: routers (SNAT) and floating addresses (DNAT), one "
    "network namespace per router.",
)

opts = [
    cfg.StrOpt(
        "driver",
        default="fake",
        choices=[
            ("netns", "a network namespace per router, veths, nftables"),
            ("fake", "in memory (tests, the all-in-one)"),
        ],
        help="Router driver.",
    ),
    cfg.StrOpt(
        "netns",
        default="",
        help="Network namespace holding the networks' bridges (the one "
        "nsa's [nsa] netns names, where the routers' veths plug in); "
        "empty: the agent's own.",
    ),
    cfg.StrOpt(
        "namespace_prefix",
        default="arame-",
        help="A router's namespace is this prefix and its id "
        "(`arame-rt-abcd1234`).",
    ),
    cfg.DictOpt(
        "physical_networks",
        default={},
        help="Which device of this host carries each external network's "
        "`physical_network` (`public:eth1`): the external bridge is "
        "built on it (flat) or on a VLAN of it.",
    ),
    cfg.IntOpt(
        "resync_interval",
        default=60,
        min=0,
        help="Seconds between two resyncs with the controller (which "
        "routers this host holds, and how); 0: only at start.",
    ),
    cfg.IntOpt(
        "max_connections",
        default=65536,
        min=1,
        help="Connections one router may track (conntrack's table is "
        "shared by every namespace of the host).",
    ),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)


def list_opts():
    return [(group.name, opts)]
