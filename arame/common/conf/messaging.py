"""Our defaults for oslo.messaging's options: the `arame` exchange, and
durable quorum queues on RabbitMQ.

Durable queues survive a broker restart; quorum queues (RabbitMQ >= 3.8)
also survive the loss of a node. oslo.messaging keeps fanout and reply
queues transient whatever these say.
"""

import oslo_messaging
from oslo_messaging import opts as messaging_opts

EXCHANGE = "arame"


def set_lib_defaults() -> None:
    """What the sample config shows too (oslo.config.opts.defaults)."""
    oslo_messaging.set_transport_defaults(EXCHANGE)


def set_defaults(conf) -> None:
    """Before the config is read (and before [DEFAULT] transport_url gets a
    default of its own, as arame-all gives it)."""
    set_lib_defaults()
    # The rabbit driver registers its options only when it loads; register
    # them now (through the public list the sample generator uses) so our
    # defaults apply and the options show in the sample config.
    for group, opts in messaging_opts.list_opts():
        conf.register_opts(opts, group=group)
    conf.set_default(
        "amqp_durable_queues", True, group="oslo_messaging_rabbit"
    )
    conf.set_default(
        "rabbit_quorum_queue", True, group="oslo_messaging_rabbit"
    )
