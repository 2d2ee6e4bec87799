"""iSCSI targets in memory, with tgt's rules (per-volume CHAP users, one
initiator address, busy while logged in) and a way to pretend the daemon
restarted.

With `[fake_sta] state_file` the targets outlive the agent, as tgtd's do
(it is another process): loaded at start, saved after every change
(arame/agents/statefile.py), under "exports" beside the fake pool's keys.
"""

import threading

from arame.agents import statefile
from arame.agents.sta.errors import ExportBusy, ExportConflict
from arame.agents.sta.targets import base


class FakeTarget(base.ISCSITarget):
    def __init__(
        self,
        address: str = "127.0.0.1",
        port: int = 3260,
        iqn_date: str = "2025-01",
        iqn_domain: str = "org.arame",
        state_file: str | None = None,
    ):
        super().__init__(address, port, iqn_date, iqn_domain)
        self._lock = threading.Lock()
        self.targets: dict[str, dict] = {}  # volume id -> target
        self.passwords: dict[str, str] = {}  # CHAP user -> password
        self._state = statefile.open_state(state_file)
        if self._state is not None:
            exports = self._state.load().get("exports") or {}
            for vid, e in exports.items():
                self.targets[vid] = {
                    k: e[k] for k in ("path", "initiator", "user", "sessions")
                }
                self.passwords[e["user"]] = e["password"]

    @classmethod
    def from_config(cls, conf):
        c = conf.sta
        return cls(
            c.iscsi_address,
            c.iscsi_port,
            c.iqn_date,
            c.iqn_domain,
            state_file=conf.fake_sta.state_file,
        )

    def _save(self) -> None:
        """After every change, with self._lock held; the pool's keys in
        the same file are the backend's."""
        if self._state is None:
            return
        exports = {
            vid: {**t, "password": self.passwords.get(t["user"], "")}
            for vid, t in self.targets.items()
        }
        self._state.update(lambda doc: doc.update(exports=exports))

    def export(
        self, volume_id, path, initiator_address, chap_user, chap_secret
    ) -> dict:
        with self._lock:
            for vid, t in self.targets.items():
                if vid != volume_id and t["user"] == chap_user:
                    raise ExportConflict(
                        f"CHAP user {chap_user} is bound to {self.iqn(vid)}"
                    )
            t = self.targets.setdefault(volume_id, {"sessions": 0})
            old = t.get("user")
            if old and old != chap_user:
                self.passwords.pop(old, None)
            t.update(path=path, initiator=initiator_address, user=chap_user)
            self.passwords[chap_user] = chap_secret
            self._save()
        return self.connection(volume_id)

    def unexport(self, volume_id, force=False) -> None:
        with self._lock:
            t = self.targets.get(volume_id)
            if t is None:
                return
            if t["sessions"] and not force:
                raise ExportBusy(
                    f"an initiator is logged in to {self.iqn(volume_id)}",
                    volume_id=volume_id,
                )
            del self.targets[volume_id]
            self.passwords.pop(t["user"], None)
            self._save()

    def list_exports(self) -> dict[str, base.Export]:
        with self._lock:
            return {
                vid: base.Export(
                    vid,
                    self.iqn(vid),
                    t["path"],
                    (t["initiator"],) if t["initiator"] else (),
                    (t["user"],),
                    t["sessions"],
                )
                for vid, t in self.targets.items()
            }

    def fence(self, initiator_address) -> dict:
        """Sessions are counted per target, not per address: those of a
        target whose ACL held the address are the ones closed, plus those
        `login` recorded from it elsewhere (a re-export keeps them)."""
        revoked, closed = [], 0
        with self._lock:
            for vid, t in sorted(self.targets.items()):
                if t["initiator"] and base.same_address(
                    t["initiator"], initiator_address
                ):
                    revoked.append(vid)
                    t["initiator"] = None
                from_it = t.setdefault("logins", {}).pop(initiator_address, 0)
                if vid in revoked and not from_it:
                    from_it = t["sessions"]
                from_it = min(from_it, t["sessions"])
                t["sessions"] -= from_it
                closed += from_it
            if revoked or closed:
                self._save()
        return {"revoked": revoked, "sessions_closed": closed}

    # -- for tests ---------------------------------------------------------
    def login(self, volume_id, address, user, password) -> bool:
        """Would an initiator at address get in with these credentials?"""
        with self._lock:
            t = self.targets.get(volume_id)
            ok = (
                t is not None
                and t["initiator"] == address
                and t["user"] == user
                and self.passwords.get(user) == password
            )
            if ok:
                t["sessions"] += 1
                logins = t.setdefault("logins", {})
                logins[address] = logins.get(address, 0) + 1
                self._save()
            return ok

    def restart(self) -> None:
        """tgtd restarted: everything it held is gone."""
        with self._lock:
            self.targets.clear()
            self.passwords.clear()
            self._save()
