from oslo_config import cfg

group = cfg.OptGroup("api", help="The HTTP API (arame-api).")

opts = [
    cfg.HostAddressOpt(
        "host", default="0.0.0.0", help="Address to listen on."
    ),
    cfg.PortOpt("port", default=9001, help="Port to listen on."),
    cfg.IntOpt(
        "max_request_body_bytes",
        default=1024 * 1024,
        min=1024,
        help="Largest JSON body accepted (413 above it).",
    ),
    # The config drive takes at most 96 KiB of user data (hva's
    # configdrive.MAX_USER_DATA; VCP's scripts go to 93 KB): a larger
    # setting would pass the API and fail spawn.
    cfg.IntOpt(
        "max_user_data_bytes",
        default=96 * 1024,
        min=0,
        max=96 * 1024,
        help="Largest user_data accepted on an instance (UTF-8 bytes).",
    ),
    cfg.IntOpt(
        "max_root_gb",
        default=2048,
        min=1,
        help="Largest root disk an instance may ask for (root_gb, GB).",
    ),
    cfg.IntOpt("default_limit", default=50, min=1, help="Page size of lists."),
    cfg.IntOpt("max_limit", default=1000, min=1, help="Largest page size."),
    cfg.IntOpt(
        "max_task_wait",
        default=60,
        min=0,
        max=300,
        help="Longest `wait` of GET /v1/tasks/{id}, in seconds (0: no "
        "long-polling; the task is answered at once). Proxies in front "
        "of the API must allow a request this long.",
    ),
    cfg.FloatOpt(
        "task_wait_recheck_interval",
        default=1.0,
        min=0.05,
        help="While requests wait on tasks, how often this API process "
        "reads the watched tasks (one statement for all of them) to find "
        "changes no scheduler announced: new steps, ends by the reaper, "
        "an announcement lost with a broker node. Ends announced on the "
        "bus wake the waiters at once.",
    ),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)


def list_opts():
    return [(group.name, opts)]
