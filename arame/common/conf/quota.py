from oslo_config import cfg

group = cfg.OptGroup(
    "quota",
    help="Default limits of an account (an admin "
    "sets other limits per account).",
)

opts = [
    cfg.IntOpt(
        "instances",
        default=20,
        min=-1,
        mutable=True,
        help="Instances per account; -1 for no limit.",
    ),
    cfg.IntOpt(
        "vcpus",
        default=80,
        min=-1,
        mutable=True,
        help="vCPUs of all instances of an account; -1 for no limit.",
    ),
    cfg.IntOpt(
        "memory_mb",
        default=200 * 1024,
        min=-1,
        mutable=True,
        help="Memory (MiB) of all instances of an account; -1 for no limit.",
    ),
    cfg.IntOpt(
        "volumes",
        default=50,
        min=-1,
        mutable=True,
        help="Volumes made through /v1/volumes per account (an "
        "instance's root volume counts under the instance "
        "limits, not here); -1 for no limit.",
    ),
    cfg.IntOpt(
        "storage_gb",
        default=2048,
        min=-1,
        mutable=True,
        help="GiB of all volumes of an account made through "
        "/v1/volumes; -1 for no limit.",
    ),
    cfg.IntOpt(
        "floating_ips",
        default=10,
        min=-1,
        mutable=True,
        help="Floating IPs an account holds (allocated from the "
        "external networks' pools, associated or not); -1 for no limit.",
    ),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)


def list_opts():
    return [(group.name, opts)]
