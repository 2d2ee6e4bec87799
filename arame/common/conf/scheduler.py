from oslo_config import cfg

group = cfg.OptGroup("scheduler", help="Placement and task flows.")

opts = [
    cfg.ListOpt(
        "enabled_filters",
        mutable=True,
        default=[
            "ServiceAliveFilter",
            "ProviderFilter",
            "CoreFilter",
            "RamFilter",
            "DiskFilter",
        ],
        help="Filters a host must pass (entry points in "
        "arame.scheduler.filters), in order.",
    ),
    cfg.ListOpt(
        "enabled_weighers",
        mutable=True,
        default=["RAMWeigher"],
        help="Weighers that rank the passing hosts (entry points in "
        "arame.scheduler.weighers).",
    ),
    cfg.FloatOpt(
        "ram_weight_multiplier",
        mutable=True,
        default=1.0,
        help="Positive spreads instances, negative stacks them.",
    ),
    cfg.FloatOpt(
        "cpu_allocation_ratio",
        mutable=True,
        default=4.0,
        min=0.1,
        help="Virtual CPUs sold per physical CPU.",
    ),
    cfg.FloatOpt(
        "ram_allocation_ratio",
        mutable=True,
        default=1.0,
        min=0.1,
        help="Memory sold per MiB of host memory.",
    ),
    cfg.FloatOpt(
        "disk_allocation_ratio",
        mutable=True,
        default=1.0,
        min=0.1,
        help="Disk sold per GiB of host disk.",
    ),
    cfg.IntOpt(
        "host_subset_size",
        mutable=True,
        default=3,
        min=1,
        help="Pick at random among this many best hosts, so that "
        "several schedulers rarely race for the same one.",
    ),
    cfg.IntOpt(
        "claim_attempts",
        mutable=True,
        default=5,
        min=1,
        help="Hosts tried when a claim loses a race before giving up.",
    ),
    cfg.IntOpt(
        "host_cache_full_reload",
        mutable=True,
        default=60,
        min=1,
        help="Seconds between two reads of every host row by a "
        "scheduler's host cache (in between, each decision reads only "
        "the rows changed since the last one). The full read forgets "
        "deleted hosts and rows a writer stamped with a clock behind by "
        "more than host_cache_overlap.",
    ),
    cfg.FloatOpt(
        "host_cache_overlap",
        mutable=True,
        default=1.0,
        min=0.0,
        help="Seconds the host cache reads again before the newest "
        "change it saw: a row stamped before another but committed "
        "after it (or by a host whose clock is a little behind) is "
        "still read. This look back runs at most once per this many "
        "seconds (the other refreshes read from the newest change on), "
        "so such a row is seen within about this long.",
    ),
    cfg.FloatOpt(
        "host_liveness_interval",
        mutable=True,
        default=1.0,
        min=0.1,
        help="Seconds between two reads, by a scheduler's host cache, of "
        "the hosts whose last report is older than service_down_time "
        "less twice this: the only hosts a decision could judge wrongly "
        "up or down. A heartbeat that changes nothing but liveness does "
        "not move a host's change marker, so the cache learns liveness "
        "this way rather than by reading every reporting host.",
    ),
    cfg.IntOpt(
        "build_timeout",
        mutable=True,
        default=600,
        min=1,
        help="Deadline in seconds of a whole build: past it the task "
        "fails and the instance goes to error. On by default.",
    ),
    cfg.IntOpt(
        "delete_timeout",
        mutable=True,
        default=300,
        min=1,
        help="Deadline in seconds of deleting an instance, a volume "
        "or a snapshot.",
    ),
    cfg.IntOpt(
        "action_timeout",
        mutable=True,
        default=300,
        min=1,
        help="Deadline in seconds of an action on an instance "
        "(start, stop, reboot) or a volume (attach, detach).",
    ),
    cfg.IntOpt(
        "snapshot_timeout",
        mutable=True,
        default=300,
        min=1,
        help="Deadline in seconds of taking a snapshot of a volume.",
    ),
    cfg.IntOpt(
        "agent_call_timeout",
        mutable=True,
        default=60,
        min=1,
        help="Deadline in seconds of one call to an agent.",
    ),
    cfg.IntOpt(
        "task_lease",
        default=8,
        min=2,
        help="Seconds a scheduler holds a task it runs without renewing "
        "it (it renews every quarter of this). A task whose lease lapses "
        "(its scheduler died) is adopted by another scheduler and resumed "
        "from its last completed step.",
    ),
    cfg.FloatOpt(
        "sweep_interval",
        default=2.0,
        min=0.1,
        help="Seconds between two looks for tasks whose lease lapsed and "
        "for casts no scheduler took.",
    ),
    cfg.IntOpt(
        "lost_cast_grace",
        default=10,
        min=1,
        help="Seconds a task may stay queued before the sweep runs it "
        "itself (its cast was lost with a broker, or taken by a process "
        "that died before it began).",
    ),
    cfg.IntOpt(
        "task_max_attempts",
        default=5,
        min=1,
        help="Schedulers that may begin or adopt one task; past it the "
        "task fails (a flow that kills its process each time).",
    ),
    cfg.FloatOpt(
        "agent_retry_max_interval",
        default=5.0,
        min=0.1,
        help="Longest pause between two asks of an agent that did not "
        "answer (every operation is idempotent: a step asks again, with "
        "backoff, until the agent answers, its host is declared down or "
        "the task's deadline passes).",
    ),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)


def list_opts():
    return [(group.name, opts)]
