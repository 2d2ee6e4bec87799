"""iproute2 (`ip`, `bridge`) and `sysctl`, as used by the bridge plumbing.

Reads go through `-j` (JSON) so nothing parses human output. Every device
name is passed after its keyword (`name`, `dev`): ip accepts abbreviated
keywords, so a bare name such as "b" would be read as "broadcast". The
kernel's refusals become the typed errors of `base`.
"""

import json

from arame.agents.hva.networking import base
from arame.common import runner

TIMEOUT = 30.0

# What to tell an operator when the kernel does not know a link type.
FEATURES = {
    "bridge": "Linux bridge (CONFIG_BRIDGE)",
    "vxlan": "VXLAN (CONFIG_VXLAN)",
    "vlan": "802.1q VLAN (CONFIG_VLAN_8021Q)",
}

# stderr of `ip link add` when the link type is not built into the kernel
# (and no module can be loaded): the wording differs between kernels.
_NO_FEATURE = (
    "Unknown device type",
    "Operation not supported",
    "not supported by protocol",
)

FLOOD_MAC = "00:00:00:00:00:00"


class IpRoute:
    def __init__(self, netns: str | None = None):
        self.netns = netns

    def _run(self, args, ok_codes=(0,)) -> runner.Result:
        try:
            return runner.run(
                args, netns=self.netns, timeout=TIMEOUT, ok_codes=ok_codes
            )
        except runner.CommandError as e:
            if args[:3] == ["ip", "link", "add"]:
                raise _translate(e, args) from e
            raise base.NetworkingError(
                f"{' '.join(args)}: {e.stderr.strip() or e}"
            ) from e

    # -- reads ---------------------------------------------------------------

    def link(self, name: str) -> dict | None:
        """The device's details (`ip -d`) with its addresses ("addr_info"),
        or None if there is none."""
        res = self._run(
            ["ip", "-j", "-d", "addr", "show", "dev", name], ok_codes=(0, 1)
        )
        if res.exit_code == 1:
            if "does not exist" in res.stderr:
                return None
            raise base.NetworkingError(
                f"ip link show {name}: {res.stderr.strip()}"
            )
        found = json.loads(res.stdout or "[]")
        return found[0] if found else None

    def links(
        self, *, kind: str | None = None, master: str | None = None
    ) -> list[dict]:
        args = ["ip", "-j", "-d", "link", "show"]
        if master:
            args += ["master", master]
        if kind:
            args += ["type", kind]
        return json.loads(self._run(args).stdout or "[]")

    def ipv4_addresses(self, dev: str) -> list[str]:
        res = self._run(
            ["ip", "-j", "-4", "addr", "show", "dev", dev], ok_codes=(0, 1)
        )
        if res.exit_code == 1:
            raise base.UnderlayError(
                f"underlay device {dev!r}: {res.stderr.strip()}"
            )
        return [
            a["local"]
            for link in json.loads(res.stdout or "[]")
            for a in link.get("addr_info", [])
            if a.get("local")
        ]

    def flood_destinations(self, dev: str) -> set[str]:
        """Where the VXLAN device copies broadcast and unknown frames."""
        res = self._run(["bridge", "-j", "fdb", "show", "dev", dev])
        return {
            e["dst"]
            for e in json.loads(res.stdout or "[]")
            if e.get("mac") == FLOOD_MAC and e.get("dst")
        }

    # -- changes -------------------------------------------------------------

    def add(
        self,
        name: str,
        kind: str,
        *,
        mtu: int | None = None,
        master: str | None = None,
        lower: str | None = None,
        up: bool = False,
        type_args=(),
    ) -> None:
        args = ["ip", "link", "add"]
        if lower:
            args += ["link", lower]
        args += ["name", name]
        if mtu:
            args += ["mtu", str(mtu)]
        if master:
            args += ["master", master]
        if up:
            args.append("up")
        args += ["type", kind, *[str(a) for a in type_args]]
        self._run(args)

    def set(self, name: str, *settings) -> None:
        self._run(
            ["ip", "link", "set", "dev", name, *[str(s) for s in settings]]
        )

    def delete(self, name: str) -> None:
        """Remove the device; one that is already gone is success."""
        res = self._run(["ip", "link", "del", "dev", name], ok_codes=(0, 1))
        if res.exit_code == 1 and "Cannot find device" not in res.stderr:
            raise base.NetworkingError(
                f"ip link del {name}: {res.stderr.strip()}"
            )

    def disable_ipv6(self, dev: str) -> None:
        # A tenant bridge with an IPv6 link-local address would make this
        # host reachable from every guest on the network.
        res = self._run(
            ["sysctl", "-q", "-w", f"net.ipv6.conf.{dev}.disable_ipv6=1"],
            ok_codes=(0, 1),
        )
        # No such key for a device that exists: a kernel without IPv6.
        if res.exit_code and "cannot stat" not in res.stderr:
            raise base.NetworkingError(
                f"disabling IPv6 on {dev}: {res.stderr.strip()}"
            )

    def flood_to(self, dev: str, dst: str) -> None:
        self._run(
            ["bridge", "fdb", "append", FLOOD_MAC, "dev", dev, "dst", dst]
        )

    def stop_flooding_to(self, dev: str, dst: str) -> None:
        self._run(["bridge", "fdb", "del", FLOOD_MAC, "dev", dev, "dst", dst])


def _translate(
    err: runner.CommandError, args: list[str]
) -> base.NetworkingError:
    """The error of `ip link add ... name N ... type K ...`."""
    name = args[args.index("name") + 1]
    kind = args[args.index("type") + 1]
    msg = err.stderr.strip() or str(err)
    if any(s in msg for s in _NO_FEATURE):
        return base.KernelFeatureMissing(FEATURES.get(kind, kind), msg)
    if "VNI already exists" in msg:
        return base.SegmentInUse(
            f"another VXLAN device already carries the VNI of {name}: {msg}"
        )
    if "Cannot find device" in msg:
        # the lower device of a VLAN, the `dev` of a VXLAN group
        return base.UnderlayError(f"a device {name} needs is missing: {msg}")
    return base.NetworkingError(f"ip link add {name} ({kind}): {msg}")
