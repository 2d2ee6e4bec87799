"""Tenant network plumbing on a hypervisor host (see base.HostNetworking)."""

from arame.agents.hva.networking.base import (  # noqa: F401
    HostNetworking,
    InvalidNetwork,
    KernelFeatureMissing,
    NetworkingError,
    SegmentInUse,
    UnderlayError,
)
from arame.agents.hva.networking.linux_bridge import LinuxBridgeNetworking  # noqa: F401
