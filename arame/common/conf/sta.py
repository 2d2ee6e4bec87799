from oslo_config import cfg

group = cfg.OptGroup(
    "sta", help="Storage target agent: ZFS volumes exported over iSCSI."
)

opts = [
    cfg.StrOpt(
        "backend",
        default="fake",
        help="Storage backend (entry points in arame.sta.backends): "
        "zfs, or fake (in memory).",
    ),
    cfg.StrOpt(
        "target",
        default="fake",
        help="iSCSI target driver (entry points in arame.sta.targets): "
        "tgt, or fake (in memory).",
    ),
    cfg.StrOpt(
        "pool",
        default="arame",
        regex=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$",
        help="ZFS pool (or dataset) under which images/ and volumes/ "
        "live. The deployment creates the pool; the agent "
        "creates the two datasets.",
    ),
    cfg.StrOpt(
        "volume_mode",
        default="file",
        choices=("file", "zvol"),
        help="file: a volume is a dataset holding one sparse disk.raw "
        "(works on zfs-fuse, which has no zvols); zvol: a sparse "
        "ZFS volume (OpenZFS in the kernel).",
    ),
    cfg.IntOpt(
        "max_volume_gb",
        default=2048,
        min=1,
        help="Largest volume (and image) accepted, GiB.",
    ),
    cfg.ListOpt(
        "import_dirs",
        default=["/var/lib/arame/sta/import"],
        help="import_image copies only files under these "
        "directories (an RPC message must not read any file "
        "on the node).",
    ),
    cfg.FloatOpt(
        "zfs_timeout",
        default=120.0,
        min=1,
        help="Seconds a zfs or zpool command may take.",
    ),
    cfg.HostAddressOpt(
        "iscsi_address",
        default="127.0.0.1",
        help="Address of the iSCSI portal that initiators "
        "connect to (tgtd listens there).",
    ),
    cfg.PortOpt("iscsi_port", default=3260, help="Port of the iSCSI portal."),
    cfg.StrOpt(
        "iqn_date",
        default="2025-01",
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        help="yyyy-mm part of the targets' IQN "
        "(iqn.<date>.<domain>:<volume id>).",
    ),
    cfg.StrOpt(
        "iqn_domain",
        default="org.arame",
        regex=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*"
        r"[a-z0-9])?)*$",
        help="Reversed domain name in the targets' IQN.",
    ),
    cfg.IntOpt(
        "tgt_control_port",
        default=0,
        min=0,
        max=32767,
        help="tgtd management channel (tgtd -C / tgtadm -C), to talk "
        "to one tgtd among several on a machine.",
    ),
    cfg.FloatOpt(
        "tgtadm_timeout",
        default=30.0,
        min=1,
        help="Seconds a tgtadm command may take.",
    ),
    # -- exports kept through tgtd restarts (STAManager.check_exports) --
    cfg.FloatOpt(
        "export_check_interval",
        default=10.0,
        min=0.1,
        mutable=True,
        help="Seconds between checks that tgtd still holds every "
        "export the agent made (tgtd keeps them in memory "
        "only); when one is missing the agent asks the "
        "collector what it should export and rebuilds.",
    ),
    cfg.FloatOpt(
        "expected_exports_timeout",
        default=30.0,
        min=1,
        help="Seconds the agent waits for the collector's answer "
        "to expected_exports.",
    ),
    # -- placement (read by the scheduler) --
    cfg.FloatOpt(
        "overcommit_ratio",
        default=1.0,
        min=0.1,
        mutable=True,
        help="Volumes are sparse (thin): placement accepts a "
        "volume on a node when its size is at most the "
        "pool's free bytes (last heartbeat) times this ratio. "
        "1.0 never promises more than is free right now; "
        "above 1.0 bets that volumes are not filled.",
    ),
]

# The image data endpoint: request bodies streamed from the API, outside
# RabbitMQ (large bodies never travel over the bus).
data_opts = [
    cfg.HostAddressOpt(
        "data_address",
        default="127.0.0.1",
        help="Address the image data endpoint listens on "
        "(the API must reach it).",
    ),
    cfg.PortOpt(
        "data_port",
        default=9292,
        help="Port of the image data endpoint (0: any free port, for tests).",
    ),
    cfg.URIOpt(
        "data_url",
        schemes=["http", "https"],
        help="URL the node advertises for its data endpoint (behind "
        "a proxy or NAT); default http://<data_address>:"
        "<data_port>.",
    ),
]

storage_data_group = cfg.OptGroup(
    "storage_data",
    help="Image bytes from the API to storage nodes: the "
    "signed tickets both sides check. Set the same "
    "ticket_secret on arame-api and every arame-sta.",
)
storage_data_opts = [
    cfg.StrOpt(
        "ticket_secret",
        secret=True,
        help="HMAC-SHA256 key of the upload tickets the API signs "
        "and the storage nodes verify. Uploads are refused "
        "while it is unset.",
    ),
    cfg.IntOpt(
        "ticket_ttl",
        default=300,
        min=10,
        help="Seconds an upload ticket stays valid (the upload must "
        "start within it).",
    ),
    cfg.IntOpt(
        "max_image_bytes",
        default=64 * 1024**3,
        min=1,
        help="Largest image the API accepts on PUT /v1/images/{id}"
        "/data (413 above it).",
    ),
    cfg.FloatOpt(
        "node_timeout",
        default=60.0,
        min=1,
        help="Seconds the API waits on a storage node's data "
        "endpoint for each read or write of the stream, and "
        "for its final answer.",
    ),
    cfg.IntOpt(
        "stale_upload_seconds",
        default=3600,
        min=60,
        help="An image left `uploading` this long (the API died "
        "mid-upload) may be uploaded again.",
    ),
]

fake_group = cfg.OptGroup(
    "fake_sta", help="The fake storage backend, for tests and the all-in-one."
)
fake_opts = [
    cfg.IntOpt(
        "size_gb", default=10240, min=1, help="Size of the pretend pool, GiB."
    ),
    cfg.StrOpt(
        "state_file",
        default="",
        help="JSON file holding the fake pool and the fake iSCSI "
        "target's exports, so that they outlive the agent as ZFS "
        "datasets and tgtd's targets do: read at start, rewritten "
        "whole (temporary file renamed over it) after every change. "
        'Shape: {"volumes": {"<volume id>": {"size_bytes": n, '
        '"origin": "<image or snapshot id>" or null}}, '
        '"snapshots": {"<snapshot id>": "<volume id>"}, '
        '"images": {"<image id>": {"size_bytes": n, '
        '"sha256": "..."}}, "exports": {"<volume id>": '
        '{"path": ..., "initiator": "<address>", "user": ..., '
        '"password": ..., "sessions": n}}} (mode 0600: it holds '
        "the CHAP passwords). One agent process per file. Empty: in "
        "memory only.",
    ),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)
    conf.register_opts(data_opts, group)
    conf.register_group(storage_data_group)
    conf.register_opts(storage_data_opts, storage_data_group)
    conf.register_group(fake_group)
    conf.register_opts(fake_opts, fake_group)


def list_opts():
    return [
        (group.name, opts + data_opts),
        (storage_data_group.name, storage_data_opts),
        (fake_group.name, fake_opts),
    ]
