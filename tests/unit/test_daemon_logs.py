"""The functional tests' reading of daemon logs: a broker's nack that the
daemon recovered from is not an error; anything else logged at ERROR is."""

from tests.helpers import daemon_logs

CID = "a4245705-9236-469d-964a-9f90c5fc5a81"
NACKED = (
    "2026-12-06 15:23:24.387 24558 ERROR oslo.messaging._drivers.impl_rabbit"
    f" [-] [{CID}] AMQP server on 127.0.0.1:5672 is unreachable: . Trying"
    " again in 1 seconds.: amqp.exceptions.MessageNacked\n"
)
RECONNECTED = (
    "2026-12-06 15:23:25.401 24558 INFO oslo.messaging._drivers.impl_rabbit"
    f" [-] [{CID}] Reconnected to AMQP server on 127.0.0.1:5672 via [amqp]"
    " client with port 41234.\n"
)
INFO = "2026-12-06 15:23:24.100 24558 INFO arame.agents.nsa.manager [-] ok\n"


def test_a_nack_the_daemon_recovered_from_is_not_an_error():
    assert daemon_logs.errors([INFO, NACKED, INFO, RECONNECTED]) == []


def test_a_nack_never_recovered_from_is_an_error():
    assert daemon_logs.errors([INFO, NACKED, INFO]) == [NACKED]
    other = RECONNECTED.replace(CID, "0" * 8 + CID[8:])
    assert daemon_logs.errors([NACKED, other]) == [NACKED]
    # A reconnection before the nack does not answer it.
    assert daemon_logs.errors([RECONNECTED, NACKED]) == [NACKED]


def test_every_other_error_counts():
    refused = NACKED.replace("MessageNacked", "ConnectionRefusedError")
    crit = INFO.replace(" INFO ", " CRITICAL ")
    err = INFO.replace(" INFO ", " ERROR ")
    lines = [refused, RECONNECTED, crit, err]
    assert daemon_logs.errors(lines) == [refused, crit, err]
