"""[hva] options of guest metrics: sampling, retention and the
Prometheus endpoint (arame/agents/hva/metrics.py, prometheus.py)."""

from oslo_config import cfg

GROUP = "hva"

opts = [
    cfg.FloatOpt(
        "metrics_interval",
        default=10,
        min=0,
        help="Seconds between two readings of every guest's counters "
        "(CPU time, memory, disk and network bytes), from which "
        "the agent keeps rates per guest. 0 turns sampling off: "
        "no metrics are kept or served.",
    ),
    cfg.IntOpt(
        "metrics_retention",
        default=3600,
        min=1,
        help="Seconds of samples kept per guest, in memory (what "
        "GET /v1/instances/{id}/metrics can answer). A restart "
        "of the agent starts the history afresh.",
    ),
    cfg.PortOpt(
        "prometheus_port",
        default=0,
        help="TCP port of this agent's Prometheus endpoint "
        "(/metrics: every guest's counters labelled instance, "
        "account and unit). 0: no endpoint.",
    ),
    cfg.StrOpt(
        "prometheus_bind_host",
        default="0.0.0.0",
        help="Address the Prometheus endpoint listens on.",
    ),
]


def register(conf):
    conf.register_opts(opts, GROUP)


def list_opts():
    return [(GROUP, opts)]
