"""iSCSI targets in tgtd, through tgtadm.

tgtd keeps everything in memory: the target ids (tid) are read back from
`tgtadm --op show` on every change (tgt_show.py), never remembered here,
and after a tgtd restart `rebuild_exports` makes the targets again.

Security order: tgtd refuses a login to a target with no ACL, and accepts
one without CHAP when no account is bound. So a target gets its LUN, then
its CHAP account, and its ACL last; changing the account of a live target
first takes its ACL away (sessions already logged in are not affected).

tgtadm takes the CHAP password on its command line (there is no other
way): it is visible in /proc for the few milliseconds tgtadm runs, and is
masked in every log line and error (runner's `secrets`).

The CHAP accounts are tgtd-wide; the controller gives each volume its own
user, and an account bound to no target is ours to delete: tgtd (or its
control port, [sta] tgt_control_port) belongs to this agent.
"""

import threading

from oslo_log import log

from arame.agents.sta.errors import ExportBusy, ExportConflict, StorageError
from arame.agents.sta.targets import base
from arame.agents.sta.targets.tgt_show import (
    TargetInfo,
    parse_accounts,
    parse_connections,
    parse_targets,
)
from arame.common import runner

LOG = log.getLogger(__name__)


class TgtadmFailed(Exception):
    """tgtadm's own message (rc 22 for most refusals), password masked."""


class TgtTarget(base.ISCSITarget):
    def __init__(
        self,
        address: str,
        port: int,
        iqn_date: str,
        iqn_domain: str,
        control_port: int = 0,
        timeout: float = 30.0,
    ):
        super().__init__(address, port, iqn_date, iqn_domain)
        self.control_port = control_port
        self.timeout = timeout
        # Target ids are allocated from what `show` lists: one change at a
        # time.
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, conf):
        c = conf.sta
        return cls(
            c.iscsi_address,
            c.iscsi_port,
            c.iqn_date,
            c.iqn_domain,
            c.tgt_control_port,
            c.tgtadm_timeout,
        )

    def _adm(self, *args, secrets=(), missing_ok=()) -> str:
        """Run tgtadm; a refusal whose message contains one of missing_ok
        counts as done (deleting what is already gone)."""
        cmd = ["tgtadm"]
        if self.control_port:
            cmd += ["-C", str(self.control_port)]
        cmd += ["--lld", "iscsi", *[str(a) for a in args]]
        try:
            return runner.run(
                cmd, timeout=self.timeout, secrets=secrets
            ).stdout
        except runner.CommandError as e:
            msg = e.stderr.strip() or str(e)
            if any(m in msg for m in missing_ok):
                return ""
            # Not chained: the CommandError holds the unmasked argv.
            raise TgtadmFailed(msg) from None

    def _targets(self) -> list[TargetInfo]:
        return parse_targets(self._adm("--op", "show", "--mode", "target"))

    def _delete_account(self, user: str) -> None:
        self._adm(
            "--op",
            "delete",
            "--mode",
            "account",
            "--user",
            user,
            missing_ok=("can't find the account",),
        )

    # -- the interface -----------------------------------------------------
    def export(
        self, volume_id, path, initiator_address, chap_user, chap_secret
    ) -> dict:
        iqn = self.iqn(volume_id)
        with self._lock:
            try:
                self._export(
                    iqn, path, initiator_address, chap_user, chap_secret
                )
            except TgtadmFailed as e:
                raise StorageError(f"export of {volume_id}: {e}") from None
        LOG.info("exported %s to %s as %s", volume_id, initiator_address, iqn)
        return self.connection(volume_id)

    def _export(self, iqn, path, address, user, password) -> None:
        targets = self._targets()
        mine = next((t for t in targets if t.iqn == iqn), None)
        for t in targets:
            if t is not mine and user in t.accounts:
                raise ExportConflict(f"CHAP user {user} is bound to {t.iqn}")
        if mine is None:
            mine = self._new_target(iqn, targets)
        tid = mine.tid
        if base.LUN not in mine.luns:
            self._adm(
                "--op",
                "new",
                "--mode",
                "logicalunit",
                "--tid",
                tid,
                "--lun",
                base.LUN,
                "--backing-store",
                path,
            )
            # A stable identity for the disk whatever tid it gets after a
            # tgtd restart.
            vid = iqn.rsplit(":", 1)[1]
            self._adm(
                "--op",
                "update",
                "--mode",
                "logicalunit",
                "--tid",
                tid,
                "--lun",
                base.LUN,
                "--params",
                f"scsi_id={vid},scsi_sn={vid.split('-', 1)[1]}",
            )
        elif mine.luns[base.LUN] != path:
            raise StorageError(
                f"{iqn} serves {mine.luns[base.LUN]}, not {path}"
            )
        for addr in mine.acl:
            self._unbind(tid, addr)
        for old in set(mine.accounts) | set(mine.outgoing) | {user}:
            self._delete_account(old)
        self._adm(
            "--op",
            "new",
            "--mode",
            "account",
            "--user",
            user,
            "--password",
            password,
            secrets=(password,),
        )
        self._adm(
            "--op", "bind", "--mode", "account", "--tid", tid, "--user", user
        )
        self._adm(
            "--op",
            "bind",
            "--mode",
            "target",
            "--tid",
            tid,
            "--initiator-address",
            address,
        )

    def _new_target(self, iqn: str, targets: list[TargetInfo]) -> TargetInfo:
        """The target, made with the next free tid. tgtd refuses a tid or
        a name it holds ("this target already exists"): the listing was
        stale (a tgtadm outside this lock, a second agent on tgtd), so it
        is read again, and the target found there is the answer, or the
        tid free then is taken."""
        try:
            return self._create_target(iqn, targets)
        except TgtadmFailed as e:
            if "already exists" not in str(e):
                raise
            LOG.info("%s: a target was made meanwhile (%s)", iqn, e)
        targets = self._targets()
        mine = next((t for t in targets if t.iqn == iqn), None)
        return mine if mine is not None else self._create_target(iqn, targets)

    def _create_target(
        self, iqn: str, targets: list[TargetInfo]
    ) -> TargetInfo:
        tid = max((t.tid for t in targets), default=0) + 1
        self._adm(
            "--op",
            "new",
            "--mode",
            "target",
            "--tid",
            tid,
            "--targetname",
            iqn,
        )
        return TargetInfo(tid, iqn)

    def unexport(self, volume_id, force=False) -> None:
        iqn = self.iqn(volume_id)
        with self._lock:
            mine = next((t for t in self._targets() if t.iqn == iqn), None)
            if mine is None:
                return
            if mine.sessions and not force:
                raise ExportBusy(
                    f"{mine.sessions} initiator(s) logged in to {iqn}",
                    volume_id=volume_id,
                )
            try:
                self._adm(
                    "--op",
                    "delete",
                    "--mode",
                    "target",
                    "--tid",
                    mine.tid,
                    *(["--force"] if force else []),
                    missing_ok=("can't find the target",),
                )
            except TgtadmFailed as e:
                if "still active" in str(e):
                    raise ExportBusy(
                        f"an initiator logged in to {iqn}", volume_id=volume_id
                    ) from None
                raise StorageError(f"unexport of {volume_id}: {e}") from None
            for user in set(mine.accounts) | set(mine.outgoing):
                self._delete_account(user)
        LOG.info("unexported %s", volume_id)

    def list_exports(self) -> dict[str, base.Export]:
        out = {}
        for t in self._targets():
            vid = self.volume_of(t.iqn)
            if vid is not None:
                out[vid] = base.Export(
                    vid,
                    t.iqn,
                    t.luns.get(base.LUN),
                    tuple(t.acl),
                    tuple(t.accounts),
                    t.sessions,
                )
        return out

    def fence(self, initiator_address) -> dict:
        """The ACL entries first, then the connections: libiscsi logs in
        again at once when its connection drops, and must meet the ACL
        without the address (tgtd checks it at login only)."""
        revoked, closed = [], set()
        with self._lock:
            try:
                ours = [t for t in self._targets() if self.volume_of(t.iqn)]
                for t in ours:
                    for addr in t.acl:
                        if base.same_address(addr, initiator_address):
                            self._unbind(t.tid, addr)
                            revoked.append(self.volume_of(t.iqn))
                for t in ours:
                    closed |= self._close_sessions(t.tid, initiator_address)
            except TgtadmFailed as e:
                raise StorageError(
                    f"fencing of {initiator_address}: {e}"
                ) from None
        LOG.warning(
            "fenced initiator %s: revoked from %s, %d session(s) closed",
            initiator_address,
            revoked or "no export",
            len(closed),
        )
        return {
            "revoked": sorted(set(revoked)),
            "sessions_closed": len(closed),
        }

    def _unbind(self, tid: int, address: str) -> None:
        self._adm(
            "--op",
            "unbind",
            "--mode",
            "target",
            "--tid",
            tid,
            "--initiator-address",
            address,
            missing_ok=("does not exist",),
        )

    def _close_sessions(self, tid: int, address: str) -> set:
        """Close the connections from address to target tid; the
        (tid, sid) of the sessions they were."""
        closed = set()
        conns = parse_connections(
            self._adm(
                "--op",
                "show",
                "--mode",
                "conn",
                "--tid",
                tid,
                missing_ok=("can't find the target",),
            )
        )
        for c in conns:
            if not base.same_address(c.address, address):
                continue
            self._adm(
                "--op",
                "delete",
                "--mode",
                "conn",
                "--tid",
                tid,
                "--sid",
                c.sid,
                "--cid",
                c.cid,
                # Logged out meanwhile.
                missing_ok=("can't find the session", "can't find the conn"),
            )
            closed.add((tid, c.sid))
        return closed

    def forget_orphan_accounts(self) -> list[str]:
        with self._lock:
            bound = {
                u for t in self._targets() for u in t.accounts + t.outgoing
            }
            users = parse_accounts(
                self._adm("--op", "show", "--mode", "account")
            )
            orphans = [u for u in users if u not in bound]
            for u in orphans:
                self._delete_account(u)
        return orphans

    def init_host(self) -> None:
        try:
            self._targets()
        except TgtadmFailed as e:
            # tgtd may come up after the agent; exports fail until it does.
            LOG.warning("tgtd does not answer (yet): %s", e)
