import socket

from oslo_config import cfg

opts = [
    cfg.StrOpt(
        "host",
        default=socket.gethostname(),
        sample_default="<hostname>",
        help="Name of this host as the other daemons see it (RPC "
        "server name, heartbeat key).",
    ),
    cfg.IntOpt(
        "report_interval",
        mutable=True,
        default=5,
        min=1,
        help="Seconds between heartbeats of every daemon.",
    ),
    cfg.IntOpt(
        "rpc_call_monitor_timeout",
        mutable=True,
        default=6,
        min=2,
        help="An agent working on a call tells the caller so every half "
        "of this many seconds (oslo.messaging's call monitor); a call "
        "that hears nothing for this long (its agent died, or never got "
        "the message) fails at once instead of at its deadline, and the "
        "flow asks again.",
    ),
    cfg.IntOpt(
        "service_down_time",
        mutable=True,
        default=30,
        min=1,
        help="A daemon or host whose last heartbeat is older than "
        "this many seconds is shown as down and not scheduled to.",
    ),
    cfg.StrOpt(
        "state_path",
        default="/var/lib/arame",
        help="Directory for local state (SQLite file, logs of the "
        "all-in-one, agent working files).",
    ),
    cfg.StrOpt(
        "credential_key_file",
        default="$state_path/credential.key",
        help="Fernet key sealing the credentials the controller keeps "
        "(BMC passwords). Made (0600) by the first process that "
        "needs it; copy it to every controller host.",
    ),
]


def register(conf):
    conf.register_opts(opts)


def list_opts():
    return [("DEFAULT", opts)]
