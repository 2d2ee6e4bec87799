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
        default=60,
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


fake_group = cfg.OptGroup(
    "fake_nsa",
    help="The fake naming driver, for tests and the all-in-one.",
)
fake_opts = [
    cfg.StrOpt(
        "state_file",
        default="",
        help="JSON file holding the fake networks and their "
        "reservations, so that they outlive the agent as dnsmasq's "
        "state directory does: read at start, rewritten whole "
        "(temporary file renamed over it) after every change. "
        'Shape: {"networks": {"<network id>": {"network": '
        '{"id", "cidr", "gateway", "dhcp_address", '
        '"dns_domain", "dhcp_ranges", "mtu", "bridge"}, '
        '"reservations": [{"mac": "52:54:00:...", "ip": '
        '"10.0.0.5", "hostname": "web-1"}]}}} (a reservation '
        'may carry its "boot_script"). One agent process per '
        "file. Empty: in memory only.",
    ),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)
    conf.register_group(fake_group)
    conf.register_opts(fake_opts, fake_group)


def list_opts():
    return [(group.name, opts), (fake_group.name, fake_opts)]
