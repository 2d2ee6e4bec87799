from oslo_config import cfg, types

group = cfg.OptGroup(
    "hva_networking",
    help="Tenant networks on a hypervisor host, and on a network node "
    "(nsa builds its networks' bridges from these options too): a Linux "
    "bridge per network with one segment port (a VXLAN device, a VLAN "
    "sub-interface or the physical device itself for a flat network).",
)

opts = [
    cfg.StrOpt(
        "underlay_device",
        help="Device carrying VXLAN traffic between hosts. Needed for "
        "multicast flooding (the group is joined on it) and to "
        "find local_ip when that is not set.",
    ),
    cfg.IPOpt(
        "local_ip",
        help="Source address of this host's VXLAN packets. Default: "
        "the first IPv4 address of underlay_device.",
    ),
    # A string, not an IPOpt, so that an empty value can turn it off.
    cfg.StrOpt(
        "vxlan_group",
        default="239.1.1.1",
        help="Multicast group that floods broadcast and unknown "
        "traffic to every host of a network (the default: it "
        "needs no list of hosts). Ignored when vxlan_peers is "
        "set. Empty with no vxlan_peers: VXLAN networks stay "
        "on this host (a single-host cloud).",
    ),
    cfg.ListOpt(
        "vxlan_peers",
        default=[],
        item_type=types.IPAddress(),
        help="Underlay addresses of the other hosts, for underlays "
        "without multicast: broadcast and unknown traffic is "
        "copied to each (head-end replication). The list may "
        "hold this host's own address, which is skipped, so "
        "every host can share one list.",
    ),
    cfg.PortOpt(
        "vxlan_port", default=4789, help="UDP port of VXLAN (IANA: 4789)."
    ),
    cfg.IntOpt(
        "mtu",
        default=1450,
        min=68,
        max=65535,
        help="MTU of a network's bridge and segment port when the "
        "network does not give one (1450 leaves room for the "
        "50 bytes of VXLAN headers on a 1500-byte underlay).",
    ),
    cfg.StrOpt(
        "physical_device",
        help="Device whose 802.1q sub-interfaces carry VLAN networks "
        "and which a flat network takes whole (it must then "
        "hold no address).",
    ),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)


def list_opts():
    return [(group.name, opts)]
