"""The notebook-first SDK: VCP's UnitGroup -> Unit -> Node calls on Arame.

from arame.sdk import ArameSDK

sdk = ArameSDK()                      # the login `arame login` saved
ugroup = sdk.create_ugroup("handson")
spec = sdk.get_spec("vm", "small")
spec.image = "arame-test"
unit = ugroup.create_unit("web", spec, num_nodes=2)   # a progress bar
ugroup.df_nodes()
ugroup.cleanup()
"""

from arame.sdk.notebook.errors import (
    AuthError,
    NodeFailure,
    UnitError,
    WaitTimeout,
)
from arame.sdk.notebook.sdk import ArameSDK
from arame.sdk.notebook.spec import Spec
from arame.sdk.notebook.sshkeys import InvalidPublicKey
from arame.sdk.notebook.ugroup import UnitGroup
from arame.sdk.notebook.unit import Node, Unit

__all__ = [
    "ArameSDK",
    "AuthError",
    "InvalidPublicKey",
    "Node",
    "NodeFailure",
    "Spec",
    "Unit",
    "UnitError",
    "UnitGroup",
    "WaitTimeout",
]
