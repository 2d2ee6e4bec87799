from oslo_config import cfg

group = cfg.OptGroup(
    "notifications",
    help="The public, versioned notifications other services consume "
    "(doc/source/integration). Apart from the internal `notifications` "
    "topic the collector consumes.",
)

opts = [
    cfg.BoolOpt(
        "enabled",
        default=False,
        help="Publish one versioned notification each time a task ends "
        "(<resource>.<action>.end or .error, from the schedulers) and "
        "each time the collector records an instance's new power state "
        "(instance.power_state.update). Off by default: the broker "
        "keeps every message on a durable queue per topic and priority "
        "until someone consumes it, so turn it on when a service does "
        "(or cap the queues with a RabbitMQ policy).",
    ),
    cfg.ListOpt(
        "topics",
        default=["arame_notifications"],
        help="Topics the public notifications go to; a consumer binds "
        "<topic>.info and <topic>.error on the control exchange "
        "([DEFAULT] control_exchange, `arame`).",
    ),
]


def register(conf):
    conf.register_group(group)
    conf.register_opts(opts, group)


def list_opts():
    return [(group.name, opts)]
