from oslo_config import cfg

group = cfg.OptGroup("quota", help="Default limits of an account (an admin "
                                   "sets other limits per account).")

opts = [
    cfg.IntOpt("instances", default=20, min=-1, mutable=True,
               help="Instances per account; -1 for no limit."),
    cfg.IntOpt("vcpus", default=80, min=-1, mutable=True,
               help="vCPUs of all instances of an account; -1 for no limit."),
    cfg.IntOpt("memory_mb", default=200 * 1024, min=-1, mutable=True,
               help="Memory (MiB) of all instances of an account; -1 for no "
                    "limit."),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)


def list_opts():
    return [(group.name, opts)]
