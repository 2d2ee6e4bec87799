from oslo_config import cfg

group = cfg.OptGroup("hva", help="Hypervisor agent.")

opts = [
    cfg.IntOpt(
        "max_volumes",
        default=16,
        min=0,
        max=24,
        help="Data volumes one instance may have attached (each "
        "takes a spare PCIe root port on q35 guests).",
    ),
    cfg.StrOpt(
        "driver",
        default="fake",
        help="Hypervisor driver (entry points in arame.hva.drivers).",
    ),
    cfg.IntOpt(
        "power_sync_interval",
        default=60,
        min=1,
        help="Seconds between comparisons of what the hypervisor "
        "runs with what the controller expects (drift and "
        "orphan domains are reported to the collector).",
    ),
]

libvirt_group = cfg.OptGroup("libvirt", help="The libvirt hypervisor driver.")
libvirt_opts = [
    cfg.FloatOpt(
        "detach_timeout",
        default=30,
        min=1,
        mutable=True,
        help="Seconds a volume detach waits for the guest to "
        "release the disk.",
    ),
    cfg.StrOpt(
        "connection_uri",
        default="qemu:///system",
        help="libvirt connection URI.",
    ),
    cfg.StrOpt(
        "virt_type",
        default="auto",
        choices=["auto", "kvm", "qemu"],
        help="Domain type. `auto` boots a kernel under KVM once and "
        "uses KVM only if it ran to the end: some hosts have "
        "/dev/kvm and libvirt advertises kvm, yet guests hang.",
    ),
    cfg.FloatOpt(
        "kvm_probe_timeout",
        default=20,
        min=1,
        help="Seconds the KVM probe waits for its kernel.",
    ),
    cfg.StrOpt(
        "kvm_probe_cache",
        default="/var/cache/arame/kvm-probe.json",
        help="Where the probe's answer is kept (per machine: it "
        "holds while the kernel, qemu and /dev/kvm stay).",
    ),
    cfg.StrOpt(
        "instances_path",
        default="$state_path/instances",
        help="Per-instance files (root overlay, config drive, "
        "console log); `_base/` holds the image cache.",
    ),
    cfg.StrOpt(
        "image_store_path",
        default="$state_path/images",
        help="Where images are read from until a storage node "
        "serves them: <image id>/data (raw, qcow2 or the "
        "kernel tar) next to <image id>/format.",
    ),
    cfg.StrOpt(
        "plumbing_netns",
        default="",
        help="Network namespace that holds libvirtd's taps, the "
        "bridges and their firewall rules (a lab or test host "
        "runs libvirtd inside one); empty: the host's own.",
    ),
    cfg.StrOpt("machine_type", default="q35", help="QEMU machine type."),
    cfg.StrOpt(
        "iscsi_initiator_address",
        default="",
        help="Address this host's iSCSI traffic leaves from (storage "
        "nodes allow it in their export ACLs); empty: this host "
        "takes no iSCSI disks and boots guests from local "
        "overlays.",
    ),
    cfg.StrOpt(
        "kernel_cmdline",
        default="console=ttyS0 panic=-1",
        help="Kernel command line of `kernel` images.",
    ),
    cfg.IntOpt(
        "shutdown_timeout",
        default=60,
        min=0,
        mutable=True,
        help="Seconds a stop waits for the guest to power off after "
        "the ACPI button before it is destroyed.",
    ),
    cfg.IntOpt(
        "ha_max_restarts",
        default=3,
        min=0,
        mutable=True,
        help="HA restarts of one guest within ha_restart_window "
        "before it is left stopped (a guest that dies at once "
        "at every boot must not loop for ever).",
    ),
    cfg.IntOpt(
        "ha_restart_window",
        default=600,
        min=1,
        mutable=True,
        help="Seconds over which ha_max_restarts counts.",
    ),
    cfg.IntOpt(
        "reserved_host_memory_mb",
        default=512,
        min=0,
        help="Memory kept for the host, not offered to guests.",
    ),
    cfg.IntOpt(
        "reserved_host_disk_gb",
        default=0,
        min=0,
        help="Disk kept for the host, not offered to guests.",
    ),
]

fake_group = cfg.OptGroup(
    "fake_hva",
    help="The fake hypervisor driver, for tests and scale benchmarks.",
)
fake_opts = [
    cfg.IntOpt(
        "host_count",
        default=1,
        min=1,
        help="Hosts this one process pretends to be (named "
        "<host>-fakeNNNN when above 1), each with its own queue.",
    ),
    cfg.IntOpt("vcpus", default=32, min=1, help="vCPUs of each fake host."),
    cfg.IntOpt(
        "memory_mb",
        default=131072,
        min=1,
        help="Memory of each fake host, MiB.",
    ),
    cfg.IntOpt(
        "disk_gb", default=2000, min=1, help="Disk of each fake host, GiB."
    ),
    cfg.FloatOpt(
        "spawn_delay",
        mutable=True,
        default=0.0,
        min=0,
        help="Seconds a spawn takes.",
    ),
    cfg.StrOpt(
        "fail_spawn_pattern",
        mutable=True,
        default="",
        help="Instances whose name matches this regular expression "
        "fail to spawn (to exercise failure paths).",
    ),
    cfg.StrOpt(
        "iscsi_initiator_address",
        default="",
        help="The address these fake hosts report as their iSCSI "
        "initiator's (the libvirt driver's [libvirt] "
        "iscsi_initiator_address), which storage exports are bound "
        "to: with one, data volumes attach and raw images boot "
        "from a clone as on a real host. Empty: none (roots stay "
        "local, attaches are refused).",
    ),
    cfg.StrOpt(
        "state_file",
        default="",
        help="JSON file holding the fake guests, so that they outlive "
        "the agent as a real hypervisor's do: read at start, "
        "rewritten whole (temporary file renamed over it) after "
        'every change. Shape: {"guests": {"<instance id>": '
        '{"host": "<host>", "power_state": "running", '
        '"volumes": {"<volume id>": "vdc"}, "console": '
        '["..."]}}} (power states: running, shutdown, crashed). '
        "One agent process per file. Empty: in memory only.",
    ),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)
    conf.register_group(libvirt_group)
    conf.register_opts(libvirt_opts, libvirt_group)
    conf.register_group(fake_group)
    conf.register_opts(fake_opts, fake_group)


def list_opts():
    return [
        (group.name, opts),
        (libvirt_group.name, libvirt_opts),
        (fake_group.name, fake_opts),
    ]
