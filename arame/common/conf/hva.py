from oslo_config import cfg

group = cfg.OptGroup("hva", help="Hypervisor agent.")

opts = [
    cfg.StrOpt("driver", default="fake",
               help="Hypervisor driver (entry points in arame.hva.drivers)."),
]

fake_group = cfg.OptGroup("fake_hva", help="The fake hypervisor driver, for "
                                           "tests and scale benchmarks.")
fake_opts = [
    cfg.IntOpt("host_count", default=1, min=1,
               help="Hosts this one process pretends to be (named "
                    "<host>-fakeNNNN when above 1), each with its own queue."),
    cfg.IntOpt("vcpus", default=32, min=1, help="vCPUs of each fake host."),
    cfg.IntOpt("memory_mb", default=131072, min=1,
               help="Memory of each fake host, MiB."),
    cfg.IntOpt("disk_gb", default=2000, min=1,
               help="Disk of each fake host, GiB."),
    cfg.FloatOpt("spawn_delay", mutable=True, default=0.0, min=0,
                 help="Seconds a spawn takes."),
    cfg.StrOpt("fail_spawn_pattern", mutable=True, default="",
               help="Instances whose name matches this regular expression "
                    "fail to spawn (to exercise failure paths)."),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)
    conf.register_group(fake_group)
    conf.register_opts(fake_opts, fake_group)


def list_opts():
    return [(group.name, opts), (fake_group.name, fake_opts)]
