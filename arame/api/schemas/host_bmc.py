"""A hypervisor host's BMC (admin), for power fencing before its
instances are evacuated. The password is write-only: in the request,
never in an answer."""

from pydantic import BaseModel, Field

from arame.api.schemas.baremetal import (
    BmcAddress,
    BmcPassword,
    BmcUser,
    Interface,
    Port,
)
from arame.api.schemas.common import Strict


class HostBmcSet(Strict):
    """The whole BMC: a PUT replaces what was there."""

    bmc_address: BmcAddress
    bmc_port: Port = 623
    bmc_username: BmcUser
    bmc_password: BmcPassword = Field(json_schema_extra={"writeOnly": True})
    bmc_interface: Interface = "lanplus"


class HostBmc(BaseModel):
    host_id: str
    host: str
    configured: bool = Field(
        description="whether the host's power can be cut through IPMI"
    )
    bmc_address: str | None
    bmc_port: int | None
    bmc_username: str | None
    bmc_interface: str | None
