"""What the bare-metal agent refuses or fails at, as typed errors.

Over RPC they arrive as oslo.messaging RemoteError whose `exc_type` is the
class name below; the message says what happened in words the controller
can store as the node's status_reason.
"""

from arame.common import exceptions

# Malformed node fields: the API refuses them too, so the class lives with
# the field checks both share.
from arame.common.bmc import InvalidNode


class BMCError(exceptions.ArameError):
    """The BMC failed a request in a way nobody asked for."""

    code = "bmc_error"


class BMCUnreachable(BMCError):
    """The BMC did not answer (wrong address or port, network down, BMC
    hung), also after the retries."""

    code = "bmc_unreachable"


class BMCAuthFailed(BMCError):
    """The BMC refused the user name or password (or its privilege).
    Never retried: BMCs lock accounts out after a few failures."""

    code = "bmc_auth_failed"


class BMCBusy(BMCError):
    """The BMC kept answering "node busy", also after the retries."""

    code = "bmc_busy"


class BMCCommandRefused(BMCError):
    """The BMC answered a request with an error completion code."""

    code = "bmc_command_refused"


class PowerStateTimeout(BMCError):
    """The node did not reach the power state asked for in time."""

    code = "power_state_timeout"


#: refusals, as opposed to failures of the agent: the RPC endpoint hands
#: them back to the caller without a traceback in the agent's log
EXPECTED = (
    InvalidNode,
    BMCUnreachable,
    BMCAuthFailed,
    BMCBusy,
    BMCCommandRefused,
    PowerStateTimeout,
)
