"""What the hypervisor agent needs from a host's tenant network plumbing.

An instance NIC is a tap that libvirt creates and puts on its network's
bridge; the plumbing makes that bridge (with the port that carries the
network to other hosts) before, and removes it after the last NIC is gone.
Everything here runs before any command: ids and segment numbers are
checked, names derived.
"""

import abc
import contextlib
import dataclasses
import threading

from arame.common import exceptions, ids

# Inclusive ranges of segment ids; a flat network has none.
SEGMENT_RANGES = {"vxlan": (1, 2**24 - 1), "vlan": (1, 4094)}
SEGMENTATIONS = ("vxlan", "vlan", "flat")
MAX_NICS = 100  # tap names keep two digits for the NIC's index
LINK_NAME_MAX = 15  # IFNAMSIZ - 1


class NetworkingError(exceptions.AgentError):
    """Tenant network plumbing failed on this host."""

    code = "network_plumbing_failed"


class InvalidNetwork(NetworkingError):
    """The network description is invalid."""

    status, code = 422, "invalid_network"


class KernelFeatureMissing(NetworkingError):
    """This host's kernel lacks a feature the network needs."""

    code = "kernel_feature_missing"

    def __init__(self, feature: str, detail: str = ""):
        super().__init__(
            f"the kernel of this host has no {feature} support"
            + (f" ({detail})" if detail else ""),
            feature=feature,
        )
        self.feature = feature


class SegmentInUse(NetworkingError):
    """The segment (VNI, VLAN, physical device) already serves something
    else on this host."""

    code = "segment_in_use"


class UnderlayError(NetworkingError):
    """The underlay (or physical) device is missing or not configured."""

    code = "underlay_error"


@dataclasses.dataclass(frozen=True)
class Network:
    id: str
    segmentation: str
    segment_id: int | None
    mtu: int | None

    @property
    def suffix(self) -> str:
        return self.id.split("-", 1)[1]


def parse_network(network: dict) -> Network:
    """Check a network as hva receives it:
    {"id": "nw-…", "segmentation": "vxlan", "segment_id": 1001, "mtu": 1450}
    ("segmentation" defaults to vxlan, "mtu" to the configured one)."""
    if not isinstance(network, dict):
        raise InvalidNetwork(f"not a network: {network!r}")
    net_id = check_network_id(network.get("id"))
    kind = network.get("segmentation") or "vxlan"
    if kind not in SEGMENTATIONS:
        raise InvalidNetwork(f"{net_id}: unknown segmentation {kind!r}")
    seg = network.get("segment_id")
    if kind == "flat":
        if seg is not None:
            raise InvalidNetwork(f"{net_id}: a flat network has no segment_id")
    else:
        low, high = SEGMENT_RANGES[kind]
        if type(seg) is not int or not low <= seg <= high:
            raise InvalidNetwork(
                f"{net_id}: {kind} segment_id must be an "
                f"integer from {low} to {high}, not {seg!r}"
            )
    mtu = network.get("mtu")
    if mtu is not None and (type(mtu) is not int or not 68 <= mtu <= 65535):
        raise InvalidNetwork(f"{net_id}: mtu must be 68-65535, not {mtu!r}")
    return Network(net_id, kind, seg, mtu)


def check_network_id(network_id) -> str:
    if not ids.is_valid("network", network_id):
        raise InvalidNetwork(f"not a network id: {network_id!r}")
    return network_id


class HostNetworking(abc.ABC):
    """Bridges for tenant networks on one host (or one lab namespace).

    Callers that make a NIC between `ensure_network` and the moment libvirt
    plugs the tap, or that call `release_network` after unplugging, hold
    `network_lock(network_id)` around both, so that a release for the last
    NIC of a network cannot remove the bridge a new NIC is about to join.
    """

    def __init__(self):
        self._locks: dict[str, threading.RLock] = {}
        self._locks_guard = threading.Lock()

    @contextlib.contextmanager
    def network_lock(self, network_id: str):
        with self._locks_guard:
            lock = self._locks.setdefault(network_id, threading.RLock())
        with lock:
            yield

    def bridge_name(self, network_id: str) -> str:
        # The id itself: 11 characters, and `ip link` tells at once which
        # network a bridge serves.
        return check_network_id(network_id)

    def tap_name(self, instance_id: str, index: int) -> str:
        """tap<suffix>-<index>: at most 14 characters."""
        if not ids.is_valid("instance", instance_id):
            raise InvalidNetwork(f"not an instance id: {instance_id!r}")
        if type(index) is not int or not 0 <= index < MAX_NICS:
            raise InvalidNetwork(
                f"NIC index must be 0-{MAX_NICS - 1}, not {index!r}"
            )
        return f"tap{instance_id.split('-', 1)[1]}-{index}"

    @abc.abstractmethod
    def ensure_network(self, network: dict) -> str:
        """Make (idempotently) the network's bridge and segment port, all
        up with the network's MTU; return the bridge's name."""

    @abc.abstractmethod
    def release_network(self, network_id: str) -> None:
        """Remove the bridge and its segment port unless another port (a
        NIC) is still on it; nothing there is success."""

    @abc.abstractmethod
    def networks(self) -> set[str]:
        """Ids of the networks that have a bridge here."""
