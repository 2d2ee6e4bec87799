from oslo_config import cfg

group = cfg.OptGroup("sta", help="Storage target agent: ZFS volumes exported "
                                 "over iSCSI.")

opts = [
    cfg.StrOpt("backend", default="fake",
               help="Storage backend (entry points in arame.sta.backends): "
                    "zfs, or fake (in memory)."),
    cfg.StrOpt("target", default="fake",
               help="iSCSI target driver (entry points in arame.sta.targets): "
                    "tgt, or fake (in memory)."),
    cfg.StrOpt("pool", default="arame",
               regex=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$",
               help="ZFS pool (or dataset) under which images/ and volumes/ "
                    "live. The deployment creates the pool; the agent "
                    "creates the two datasets."),
    cfg.StrOpt("volume_mode", default="file", choices=("file", "zvol"),
               help="file: a volume is a dataset holding one sparse disk.raw "
                    "(works on zfs-fuse, which has no zvols); zvol: a sparse "
                    "ZFS volume (OpenZFS in the kernel)."),
    cfg.IntOpt("max_volume_gb", default=2048, min=1,
               help="Largest volume (and image) accepted, GiB."),
    cfg.ListOpt("import_dirs", default=["/var/lib/arame/sta/import"],
                help="import_image copies only files under these "
                     "directories (an RPC message must not read any file "
                     "on the node)."),
    cfg.FloatOpt("zfs_timeout", default=120.0, min=1,
                 help="Seconds a zfs or zpool command may take."),
    cfg.HostAddressOpt("iscsi_address", default="127.0.0.1",
                       help="Address of the iSCSI portal that initiators "
                            "connect to (tgtd listens there)."),
    cfg.PortOpt("iscsi_port", default=3260, help="Port of the iSCSI portal."),
    cfg.StrOpt("iqn_date", default="2025-01", regex=r"^\d{4}-(0[1-9]|1[0-2])$",
               help="yyyy-mm part of the targets' IQN "
                    "(iqn.<date>.<domain>:<volume id>)."),
    cfg.StrOpt("iqn_domain", default="org.arame",
               regex=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*"
                     r"[a-z0-9])?)*$",
               help="Reversed domain name in the targets' IQN."),
    cfg.IntOpt("tgt_control_port", default=0, min=0, max=32767,
               help="tgtd management channel (tgtd -C / tgtadm -C), to talk "
                    "to one tgtd among several on a machine."),
    cfg.FloatOpt("tgtadm_timeout", default=30.0, min=1,
                 help="Seconds a tgtadm command may take."),
]

fake_group = cfg.OptGroup("fake_sta", help="The fake storage backend, for "
                                           "tests and the all-in-one.")
fake_opts = [
    cfg.IntOpt("size_gb", default=10240, min=1,
               help="Size of the pretend pool, GiB."),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)
    conf.register_group(fake_group)
    conf.register_opts(fake_opts, fake_group)


def list_opts():
    return [(group.name, opts), (fake_group.name, fake_opts)]
