"""What in a daemon's log counts as an error for a test.

Every ERROR and CRITICAL line does, with one exception: a publish that the
broker refused with a negative confirm (RabbitMQ nacks a publish to a quorum
queue it cannot take the message into at that instant, which a loaded
2-core machine sees now and then). oslo.messaging logs that at ERROR as "AMQP
server ... is unreachable: MessageNacked", opens a fresh channel and
publishes again, and logs "Reconnected" with the same connection id when it
has. The message is not lost, so a nack followed by that connection's
reconnection is not an error; a nack the daemon never recovered from is.
"""

import re

_NACKED = re.compile(
    r"\[(?P<cid>[0-9a-f-]+)\] AMQP server on \S+ is unreachable: .*MessageNacked"
)
_RECONNECTED = re.compile(
    r"\[(?P<cid>[0-9a-f-]+)\] Reconnected to AMQP server"
)


def errors(lines: list[str]) -> list[str]:
    """The lines of one log that a test should fail on."""
    bad: list[str] = []
    nacked: dict[str, list[str]] = {}
    for line in lines:
        recovered = _RECONNECTED.search(line)
        if recovered:
            nacked.pop(recovered["cid"], None)
            continue
        if " ERROR " not in line and " CRITICAL " not in line:
            continue
        nack = _NACKED.search(line)
        if nack and " ERROR " in line:
            nacked.setdefault(nack["cid"], []).append(line)
        else:
            bad.append(line)
    for lines_of_one in nacked.values():
        bad.extend(lines_of_one)
    return bad
