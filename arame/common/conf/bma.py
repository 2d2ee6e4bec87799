from oslo_config import cfg

group = cfg.OptGroup(
    "bma",
    help="Bare-metal agent: power and boot device of "
    "bare-metal nodes through their BMC (IPMI).",
)

opts = [
    cfg.StrOpt(
        "driver",
        default="fake",
        help="Hardware driver (entry points in arame.bma.drivers): "
        "`ipmitool` (IPMI through the ipmitool program) or "
        "`fake` (in memory).",
    ),
    cfg.StrOpt(
        "default_interface",
        default="lanplus",
        choices=("lanplus", "lan"),
        help="IPMI interface of a node whose message names none: "
        "lanplus (IPMI 2.0, RMCP+) or lan (IPMI 1.5).",
    ),
    # One ipmitool run: its own timeout and retries for each packet, and a
    # hard limit after which the runner kills it.
    cfg.StrOpt(
        "ipmitool_binary", default="ipmitool", help="The ipmitool program."
    ),
    cfg.IntOpt(
        "ipmitool_timeout",
        default=2,
        min=1,
        max=60,
        help="Seconds ipmitool waits for each answer of the BMC "
        "(ipmitool -N).",
    ),
    cfg.IntOpt(
        "ipmitool_retries",
        default=1,
        min=0,
        max=10,
        help="Times ipmitool resends an unanswered packet "
        "(ipmitool -R); the agent retries whole commands on top "
        "(call_attempts).",
    ),
    cfg.FloatOpt(
        "command_timeout",
        default=30.0,
        min=1,
        help="Seconds one ipmitool run may take before it is killed.",
    ),
    cfg.IntOpt(
        "cipher_suite",
        min=0,
        max=255,
        help="RMCP+ cipher suite (ipmitool -C) for lanplus; unset: "
        "ipmitool picks the best the BMC offers (an extra "
        "exchange; some BMCs answer it slowly).",
    ),
    cfg.StrOpt(
        "privilege_level",
        default="ADMINISTRATOR",
        choices=("OPERATOR", "ADMINISTRATOR"),
        help="Privilege level of the IPMI session (ipmitool -L); "
        "power and boot device need OPERATOR.",
    ),
    cfg.StrOpt(
        "password_dir",
        help="Directory of the short-lived 0600 files that hand the "
        "BMC password to ipmitool (-f); unset: the system's "
        "temporary directory.",
    ),
    # The agent's retries of one IPMI request, around each ipmitool run.
    cfg.IntOpt(
        "call_attempts",
        default=3,
        min=1,
        max=10,
        help="Attempts at one IPMI request while the BMC does not "
        "answer or says it is busy. A refused password is never "
        "retried (BMCs lock accounts out).",
    ),
    cfg.FloatOpt(
        "call_retry_interval",
        default=1.0,
        min=0,
        help="Seconds before the second attempt; doubled for each "
        "further one.",
    ),
    # Waiting for the node to reach a power state.
    cfg.FloatOpt(
        "power_state_timeout",
        default=60.0,
        min=1,
        help="Seconds a node may take to reach the power state "
        "asked for before the operation fails.",
    ),
    cfg.FloatOpt(
        "power_poll_interval",
        default=1.0,
        min=0.05,
        help="Seconds between two power status reads while "
        "waiting for a state.",
    ),
    cfg.FloatOpt(
        "soft_power_off_timeout",
        default=120.0,
        min=1,
        help="Seconds the operating system gets to power off after "
        "an ACPI request, before a hard power off.",
    ),
    cfg.StrOpt(
        "boot_mode",
        default="legacy",
        choices=("legacy", "efi"),
        help="Boot mode written with the boot device.",
    ),
    cfg.BoolOpt(
        "disable_boot_timeout",
        default=True,
        help="Ask the BMC to keep a one-time boot device past the "
        "60 s the IPMI spec gives it (as Ironic does).",
    ),
    cfg.IntOpt(
        "power_sync_interval",
        default=60,
        min=0,
        help="Seconds between two reads of every node's power state "
        "(a `node.power` notification when it changed); 0: "
        "never.",
    ),
    cfg.IntOpt(
        "power_sync_workers",
        default=8,
        min=1,
        max=64,
        help="Nodes whose power state is read at once during a "
        "sync (a slow BMC does not hold the others up).",
    ),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)


def list_opts():
    return [(group.name, opts)]
