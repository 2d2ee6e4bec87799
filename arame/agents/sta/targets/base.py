"""The iSCSI target interface: export a volume to one initiator.

One target per exported volume, named iqn.<yyyy-mm>.<domain>:<volume id>,
with one LUN (1) backed by the volume's file or device, reachable only from
the consuming host's address (an ACL) and only with the volume's CHAP
credentials (incoming: the initiator proves itself). Every operation is
idempotent. The target daemon may keep its state in memory only (tgtd
does): `rebuild_exports` puts back what the controller expects.
"""

import abc
import dataclasses
import ipaddress

from oslo_log import log

from arame.agents.sta.rpcapi import EXPORT_LUN
from arame.common import ids
from arame.common.exceptions import ArameError

LOG = log.getLogger(__name__)

LUN = EXPORT_LUN


@dataclasses.dataclass(frozen=True)
class Export:
    volume_id: str
    iqn: str
    path: str | None
    initiators: tuple[str, ...]
    users: tuple[str, ...]
    sessions: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def same_address(a: str, b: str) -> bool:
    """The daemon may print an address otherwise than we wrote it (an
    IPv4 peer on a dual-stack socket is ::ffff:a.b.c.d)."""
    return _canonical(a) == _canonical(b)


def _canonical(value: str) -> str:
    try:
        ip = ipaddress.ip_address(value.strip())
    except ValueError:
        return value
    mapped = getattr(ip, "ipv4_mapped", None)
    return str(mapped or ip)


class ISCSITarget(abc.ABC):
    def __init__(
        self, address: str, port: int, iqn_date: str, iqn_domain: str
    ):
        self.address = address
        self.port = port
        self.iqn_prefix = f"iqn.{iqn_date}.{iqn_domain}:"

    def iqn(self, volume_id: str) -> str:
        return self.iqn_prefix + volume_id

    def volume_of(self, iqn: str) -> str | None:
        """The volume id an IQN of ours names, else None."""
        if iqn.startswith(self.iqn_prefix):
            vid = iqn[len(self.iqn_prefix) :]
            if ids.is_valid("volume", vid):
                return vid
        return None

    @property
    def portal(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"

    def connection(self, volume_id: str) -> dict:
        return {"iqn": self.iqn(volume_id), "portal": self.portal, "lun": LUN}

    def init_host(self) -> None:
        """Called once when the agent starts."""

    @abc.abstractmethod
    def export(
        self,
        volume_id: str,
        path: str,
        initiator_address: str,
        chap_user: str,
        chap_secret: str,
    ) -> dict:
        """Make the volume's target exactly this (LUN on path, CHAP user with
        this secret, only this initiator address); {"iqn","portal","lun"}."""

    @abc.abstractmethod
    def unexport(self, volume_id: str, force: bool = False) -> None:
        """Remove the target and its CHAP account; absent is done. ExportBusy
        if an initiator is logged in, unless force (which hangs it)."""

    @abc.abstractmethod
    def list_exports(self) -> dict[str, Export]:
        """Our targets as the daemon reports them, by volume id."""

    @abc.abstractmethod
    def fence(self, initiator_address: str) -> dict:
        """Take the address (canonical, checked) out of the ACL of every
        target of ours and close every session from it, whatever target
        it is logged in to (a re-export to another host leaves the
        sessions already logged in). Absent is done.
        {"revoked": [volume ids whose ACL held it], "sessions_closed": n}."""

    def forget_orphan_accounts(self) -> list[str]:
        """Delete CHAP accounts bound to no target (left by a crash between
        removing a target and its account); the users removed."""
        return []

    def rebuild_exports(
        self, expected: list[dict], keep: frozenset = frozenset()
    ) -> dict:
        """Make the daemon's targets match `expected` (each {"volume_id",
        "path", "initiator_address", "chap_user", "chap_secret"}).

        A target that already has the expected LUN, address and user is
        left alone (a secret cannot be read back: a changed one goes
        through export). Targets of ours that nobody expects are removed
        unless in use or in `keep` (expected, but not to be bound now).
        """
        current = self.list_exports()
        result = {"restored": [], "unchanged": [], "removed": [], "failed": {}}
        wanted = {e["volume_id"]: e for e in expected}
        for vid, e in sorted(wanted.items()):
            have = current.get(vid)
            if (
                have is not None
                and have.path == e["path"]
                and have.initiators == (e["initiator_address"],)
                and have.users == (e["chap_user"],)
            ):
                result["unchanged"].append(vid)
                continue
            try:
                self.export(
                    vid,
                    e["path"],
                    e["initiator_address"],
                    e["chap_user"],
                    e["chap_secret"],
                )
                result["restored"].append(vid)
            except ArameError as exc:
                LOG.warning("could not restore the export of %s: %s", vid, exc)
                result["failed"][vid] = str(exc)
        for vid in sorted(set(current) - set(wanted) - set(keep)):
            try:
                self.unexport(vid)
                result["removed"].append(vid)
            except ArameError as exc:
                LOG.warning(
                    "could not remove the stray export of %s: %s", vid, exc
                )
                result["failed"][vid] = str(exc)
        self.forget_orphan_accounts()
        return result
