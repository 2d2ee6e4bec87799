from oslo_config import cfg

group = cfg.OptGroup(
    "nsa",
    help="Naming service agent: DHCP reservations "
    "and DNS records through dnsmasq.",
)

opts = [
    cfg.StrOpt(
        "driver",
        default="fake",
        help="Naming driver (entry points in arame.nsa.drivers): "
        "`dnsmasq` or `fake`.",
    ),
    cfg.StrOpt(
        "state_path",
        default="/var/lib/arame/nsa",
        help="One directory per network below this: host files, "
        "lease file, pidfile and log of its dnsmasq. dnsmasq "
        "drops its privileges, so every directory on the way "
        "must be traversable by its user.",
    ),
    cfg.StrOpt(
        "netns",
        default="",
        help="Network namespace holding the networks' bridges (and "
        "where dnsmasq runs); empty: the agent's own.",
    ),
    cfg.IntOpt(
        "resync_interval",
        default=300,
        min=0,
        help="Seconds between two resyncs with the controller (what "
        "each network should hold); 0: only at start.",
    ),
    cfg.FloatOpt(
        "reload_delay",
        default=0.02,
        min=0,
        help="Seconds during which removals and renames are "
        "gathered before one SIGHUP per network.",
    ),
    cfg.IntOpt(
        "dhcp_lease_time",
        default=86400,
        min=120,
        help="DHCP lease time, seconds.",
    ),
    cfg.ListOpt(
        "dns_forwarders",
        default=[],
        help="Upstream DNS servers (IPv4 addresses) for names outside "
        "the networks' domains; none: dnsmasq answers only its "
        "own names.",
    ),
    cfg.StrOpt("dnsmasq_binary", default="dnsmasq"),
    cfg.StrOpt("dhcp_release_binary", default="dhcp_release"),
    cfg.StrOpt(
        "dnsmasq_user",
        default="",
        help="User dnsmasq drops to; empty: dnsmasq's default "
        "(`dnsmasq`, else `nobody`).",
    ),
    cfg.BoolOpt(
        "log_dhcp",
        default=False,
        help="Log every DHCP exchange in the network's dnsmasq.log.",
    ),
    cfg.StrOpt(
        "undionly_path",
        default="/usr/lib/ipxe/undionly.kpxe",
        help="iPXE for PXE ROMs that are not iPXE, served over TFTP on "
        "networks with bare-metal nodes (Debian package `ipxe`); "
        "empty or missing: only iPXE ROMs can network-boot.",
    ),
    cfg.FloatOpt(
        "respawn_max_delay",
        default=30.0,
        min=0.1,
        help="Longest wait before respawning a dnsmasq that keeps "
        "dying (the wait doubles from 0.1 s).",
    ),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)


def list_opts():
    return [(group.name, opts)]
