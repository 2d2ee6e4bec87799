"""Read `tgtadm --op show --mode target`: tgtd's state is only in memory
and this text is the one place it can be read back (target ids included,
so the volume -> tid map is never kept anywhere else).

    Target 1: iqn.2025-01.org.arame:vol-3k9x2m0q
        System information: ...
        I_T nexus information:
            I_T nexus: 2
                Initiator: iqn.2008-11.org.linux-kvm alias: none
                Connection: 0
                    IP Address: 127.0.0.1
        LUN information:
            LUN: 0
                ...
                Backing store path: None
            LUN: 1
                ...
                Backing store path: /pool/volumes/vol-3k9x2m0q/disk.raw
        Account information:
            chapuser
            otheruser (outgoing)
        ACL information:
            127.0.0.1
"""

import dataclasses
import re

_TARGET = re.compile(r"^Target (\d+): (\S+)$")
_SECTION = re.compile(r"^ {4}(\S.*):$")


@dataclasses.dataclass
class TargetInfo:
    tid: int
    iqn: str
    sessions: int = 0
    luns: dict[int, str | None] = dataclasses.field(default_factory=dict)
    accounts: list[str] = dataclasses.field(default_factory=list)
    outgoing: list[str] = dataclasses.field(default_factory=list)
    acl: list[str] = dataclasses.field(default_factory=list)


def parse_targets(text: str) -> list[TargetInfo]:
    targets: list[TargetInfo] = []
    cur: TargetInfo | None = None
    section = None
    lun = None
    for line in text.splitlines():
        m = _TARGET.match(line)
        if m:
            cur = TargetInfo(int(m.group(1)), m.group(2))
            targets.append(cur)
            section, lun = None, None
            continue
        if cur is None or not line.strip():
            continue
        m = _SECTION.match(line)
        if m:
            section = m.group(1)
            continue
        item = line.strip()
        if section == "I_T nexus information" and item.startswith(
            "I_T nexus:"
        ):
            cur.sessions += 1
        elif section == "LUN information":
            if item.startswith("LUN:"):
                lun = int(item.split(":", 1)[1])
                cur.luns[lun] = None
            elif item.startswith("Backing store path:") and lun is not None:
                path = item.split(":", 1)[1].strip()
                cur.luns[lun] = None if path == "None" else path
        elif section == "Account information":
            if item.endswith(" (outgoing)"):
                cur.outgoing.append(item[: -len(" (outgoing)")])
            else:
                cur.accounts.append(item)
        elif section == "ACL information":
            cur.acl.append(item)
    return targets


def parse_accounts(text: str) -> list[str]:
    """`tgtadm --op show --mode account`: "Account list:" then one per line."""
    return [line.strip() for line in text.splitlines()[1:] if line.strip()]


@dataclasses.dataclass(frozen=True)
class Connection:
    sid: int
    cid: int
    address: str


_SESSION = re.compile(r"^Session: (\d+)$")
_CONNECTION = re.compile(r"^Connection: (\d+)$")


def parse_connections(text: str) -> list[Connection]:
    """`tgtadm --op show --mode conn --tid N`: the sessions logged in to
    one target, with each connection's peer address.

        Session: 2
            Connection: 0
                Initiator: iqn.2008-11.org.linux-kvm
                IP Address: ::1
    """
    out: list[Connection] = []
    sid = cid = None
    for line in text.splitlines():
        item = line.strip()
        if m := _SESSION.match(item):
            sid, cid = int(m.group(1)), None
        elif m := _CONNECTION.match(item):
            cid = int(m.group(1))
        elif item.startswith("IP Address:") and None not in (sid, cid):
            out.append(Connection(sid, cid, item.split(":", 1)[1].strip()))
    return out
