"""Stand-ins for `zfs` and `tgtadm` behind arame.common.runner.run, for the
unit tests of the commands the sta drivers generate.

They keep just enough state to answer like the real tools (the messages
and exit codes seen from zfs-fuse and tgt 1.0.85 on these machines) and
record every command line.
"""

import dataclasses
import os
import shutil

from arame.common import runner


def _fail(args, msg, code=1):
    raise runner.CommandError(
        args, f"exit {code}: {msg}", exit_code=code, stderr=msg
    )


@dataclasses.dataclass
class Dataset:
    name: str
    kind: str  # filesystem, volume, snapshot
    props: dict
    origin: str | None = None
    seq: int = 0
    files: dict | None = None  # snapshot: name -> (size, head bytes)


class ZFSEmulator:
    """A pool named `pool` whose filesystems are directories under root."""

    HEAD = 1 << 20

    def __init__(self, root: str, pool: str = "tank"):
        self.root = root
        self.pool = pool
        self.calls: list[list[str]] = []
        self.ds: dict[str, Dataset] = {}
        self._seq = 0
        self._add(pool, "filesystem", {})
        self.busy_once: set[str] = set()
        self.unmounted: set[str] = set()

    # -- state helpers -----------------------------------------------------
    def _add(self, name, kind, props, origin=None):
        self._seq += 1
        d = Dataset(name, kind, dict(props), origin, self._seq)
        self.ds[name] = d
        if kind == "filesystem":
            os.makedirs(self.mountpoint(name), exist_ok=True)
        return d

    def mountpoint(self, name):
        return os.path.join(self.root, name)

    def names(self, types=("filesystem", "volume", "snapshot")):
        return sorted(n for n, d in self.ds.items() if d.kind in types)

    def _get(self, name, prop):
        d = self.ds[name]
        if prop == "type":
            return d.kind
        if prop == "origin":
            return d.origin or "-"
        if prop in ("mountpoint", "mounted"):
            if d.kind != "filesystem":
                return "-"
            if prop == "mountpoint":
                return self.mountpoint(name)
            return "no" if name in self.unmounted else "yes"
        if prop in ("used", "available"):
            return {"used": "1000", "available": "9000"}[prop]
        if prop in d.props:
            return d.props[prop]
        if ":" in prop:  # user properties inherit (snapshots: from their fs)
            parent = (
                name.split("@")[0] if "@" in name else name.rpartition("/")[0]
            )
            return self._get(parent, prop) if parent in self.ds else "-"
        return "-"

    def _snapshots_of(self, name):
        return sorted(
            (
                d
                for d in self.ds.values()
                if d.kind == "snapshot" and d.name.split("@")[0] == name
            ),
            key=lambda d: d.seq,
        )

    def _clones_of(self, snap):
        return [d.name for d in self.ds.values() if d.origin == snap]

    # -- the command -------------------------------------------------------
    def run(self, args, **kw):
        args = [str(a) for a in args]
        self.calls.append(args)
        if args[0] != "zfs":
            raise AssertionError(f"unexpected command {args}")
        sub, rest = args[1], args[2:]
        out = getattr(self, "cmd_" + sub)(args, rest)
        return runner.Result(args, 0, out or "", "")

    def _missing(self, args, name):
        _fail(args, f"cannot open '{name}': dataset does not exist")

    def _opts(self, rest):
        props, i, flags = {}, 0, []
        while i < len(rest) and rest[i].startswith("-"):
            if rest[i] == "-o":
                k, v = rest[i + 1].split("=", 1)
                props[k] = v
                i += 2
            elif rest[i] == "-V":
                props["volsize"] = rest[i + 1]
                i += 2
            else:
                flags.append(rest[i])
                i += 1
        return props, flags, rest[i:]

    def cmd_get(self, args, rest):
        assert rest[:4] == ["-H", "-p", "-o", "name,property,value"], args
        props, names = rest[4].split(","), rest[5:]
        lines = []
        for n in names:
            if n not in self.ds:
                self._missing(args, n)
            lines += [f"{n}\t{p}\t{self._get(n, p)}" for p in props]
        return "\n".join(lines) + "\n"

    def cmd_list(self, args, rest):
        assert rest[:2] == ["-H", "-o"], args
        cols = rest[2].split(",")
        assert rest[3] == "-t" and rest[5] == "-r", args
        types, root = rest[4].split(","), rest[6]
        if root not in self.ds:
            self._missing(args, root)
        rows = []
        for n in self.names(types):
            if n == root or n.startswith((root + "/", root + "@")):
                rows.append(
                    "\t".join(
                        n if c == "name" else self._get(n, c) for c in cols
                    )
                )
        return "\n".join(rows) + ("\n" if rows else "")

    def cmd_create(self, args, rest):
        props, _, (name,) = self._opts(rest)
        if name in self.ds:
            _fail(args, f"cannot create '{name}': dataset already exists")
        if name.rpartition("/")[0] not in self.ds:
            _fail(args, f"cannot create '{name}': parent does not exist")
        self._add(
            name, "volume" if "volsize" in props else "filesystem", props
        )

    def cmd_clone(self, args, rest):
        props, _, (snap, name) = self._opts(rest)
        if name in self.ds:
            _fail(args, f"cannot create '{name}': dataset already exists")
        if snap not in self.ds:
            self._missing(args, snap)
        self._add(name, "filesystem", props, origin=snap)
        for fname, (size, head) in (self.ds[snap].files or {}).items():
            path = os.path.join(self.mountpoint(name), fname)
            with open(path, "wb") as f:
                f.write(head)
                f.truncate(size)

    def cmd_snapshot(self, args, rest):
        (name,) = rest
        fs = name.split("@")[0]
        if name in self.ds:
            _fail(
                args,
                f"cannot create snapshot '{name}': dataset already exists",
            )
        if fs not in self.ds:
            self._missing(args, fs)
        files = {}
        if self.ds[fs].kind == "filesystem":
            for fname in os.listdir(self.mountpoint(fs)):
                p = os.path.join(self.mountpoint(fs), fname)
                with open(p, "rb") as f:
                    files[fname] = (os.path.getsize(p), f.read(self.HEAD))
        self._add(name, "snapshot", {}, None).files = files

    def cmd_set(self, args, rest):
        kv, name = rest
        if name not in self.ds:
            self._missing(args, name)
        k, v = kv.split("=", 1)
        self.ds[name].props[k] = v

    def cmd_unmount(self, args, rest):
        (name,) = rest
        if name not in self.ds:
            self._missing(args, name)
        if name in self.unmounted:
            _fail(args, f"cannot unmount '{name}': not currently mounted")
        self.unmounted.add(name)

    def cmd_mount(self, args, rest):
        (name,) = rest
        if name not in self.unmounted:
            _fail(args, f"cannot mount '{name}': filesystem already mounted")
        self.unmounted.discard(name)

    def cmd_destroy(self, args, rest):
        _, flags, (name,) = self._opts(rest)
        if name not in self.ds:
            self._missing(args, name)
        if name in self.busy_once:
            self.busy_once.discard(name)
            _fail(args, f"cannot destroy '{name}': dataset is busy")
        d = self.ds[name]
        snaps = [] if d.kind == "snapshot" else self._snapshots_of(name)
        if snaps and "-r" not in flags:
            _fail(args, f"cannot destroy '{name}': filesystem has children")
        children = [n for n in self.ds if n.startswith(name + "/")]
        if children:
            _fail(args, f"cannot destroy '{name}': filesystem has children")
        for s in snaps + ([d] if d.kind == "snapshot" else []):
            if self._clones_of(s.name):
                _fail(
                    args,
                    f"cannot destroy '{s.name}': snapshot has "
                    f"dependent clones",
                )
        for s in snaps:
            del self.ds[s.name]
        del self.ds[name]
        self.unmounted.discard(name)
        if d.kind == "filesystem":
            shutil.rmtree(self.mountpoint(name), ignore_errors=True)

    def cmd_promote(self, args, rest):
        (name,) = rest
        d = self.ds[name]
        if not d.origin:
            _fail(args, f"cannot promote '{name}': not a cloned filesystem")
        old_fs, _, at = d.origin.partition("@")
        limit = self.ds[d.origin].seq
        for s in [s for s in self._snapshots_of(old_fs) if s.seq <= limit]:
            new = f"{name}@{s.name.split('@')[1]}"
            for c in self.ds.values():
                if c.origin == s.name:
                    c.origin = new
            del self.ds[s.name]
            s.name = new
            self.ds[new] = s
        # The promoted clone takes the old filesystem's place in the tree.
        d.origin, self.ds[old_fs].origin = (
            self.ds[old_fs].origin,
            f"{name}@{at}",
        )


@dataclasses.dataclass
class Target:
    tid: int
    iqn: str
    luns: dict = dataclasses.field(default_factory=dict)
    accounts: list = dataclasses.field(default_factory=list)
    acl: list = dataclasses.field(default_factory=list)
    sessions: int = 0
    params: dict = dataclasses.field(default_factory=dict)
    # The peer address of each session (127.0.0.1 past the list's end).
    peers: list = dataclasses.field(default_factory=list)

    def peer(self, n: int) -> str:
        return self.peers[n] if n < len(self.peers) else "127.0.0.1"


class TgtEmulator:
    """tgtd's state behind tgtadm, with its answers and exit code 22."""

    def __init__(self):
        self.calls: list[list[str]] = []
        self.secrets: list[tuple] = []
        self.targets: dict[int, Target] = {}
        self.accounts: dict[str, str] = {}

    def run(self, args, **kw):
        args = [str(a) for a in args]
        self.calls.append(args)
        self.secrets.append(tuple(kw.get("secrets", ())))
        assert args[0] == "tgtadm", args
        opts, i = {}, 1
        while i < len(args):
            if args[i] == "--force":
                opts["force"] = True
                i += 1
            else:
                opts[args[i]] = args[i + 1]
                i += 2
        out = self._do(args, opts)
        return runner.Result(args, 0, out or "", "")

    def _t(self, args, opts):
        t = self.targets.get(int(opts["--tid"]))
        if t is None:
            _fail(args, "tgtadm: can't find the target", 22)
        return t

    def _do(self, args, o):
        op, mode = o["--op"], o["--mode"]
        if (op, mode) == ("show", "target"):
            return self.show()
        if (op, mode) == ("show", "conn"):
            t = self._t(args, o)
            return "".join(
                f"Session: {n + 1}\n    Connection: 0\n"
                "        Initiator: iqn.2008-11.org.linux-kvm\n"
                f"        IP Address: {t.peer(n)}\n"
                for n in range(t.sessions)
            )
        if (op, mode) == ("delete", "conn"):
            t = self._t(args, o)
            n = int(o["--sid"]) - 1
            if not 0 <= n < t.sessions or o["--cid"] != "0":
                _fail(args, "tgtadm: can't find the session", 22)
            if n < len(t.peers):
                del t.peers[n]
            t.sessions -= 1
            return ""
        if (op, mode) == ("show", "account"):
            return "Account list:\n" + "".join(
                f"    {u}\n" for u in self.accounts
            )
        if (op, mode) == ("new", "target"):
            if int(o["--tid"]) in self.targets:
                _fail(args, "tgtadm: this target already exists", 22)
            self.targets[int(o["--tid"])] = Target(
                int(o["--tid"]), o["--targetname"]
            )
        elif (op, mode) == ("delete", "target"):
            t = self._t(args, o)
            if t.sessions and not o.get("force"):
                _fail(args, "tgtadm: this target is still active", 22)
            del self.targets[t.tid]
        elif (op, mode) == ("new", "logicalunit"):
            self._t(args, o).luns[int(o["--lun"])] = o["--backing-store"]
        elif (op, mode) == ("update", "logicalunit"):
            self._t(args, o).params[int(o["--lun"])] = o["--params"]
        elif (op, mode) == ("new", "account"):
            if o["--user"] in self.accounts:
                _fail(args, "tgtadm: this account already exists", 22)
            self.accounts[o["--user"]] = o["--password"]
        elif (op, mode) == ("delete", "account"):
            if self.accounts.pop(o["--user"], None) is None:
                _fail(args, "tgtadm: can't find the account", 22)
            for t in self.targets.values():
                if o["--user"] in t.accounts:
                    t.accounts.remove(o["--user"])
        elif (op, mode) == ("bind", "account"):
            self._t(args, o).accounts.append(o["--user"])
        elif (op, mode) == ("bind", "target"):
            self._t(args, o).acl.append(o["--initiator-address"])
        elif (op, mode) == ("unbind", "target"):
            t = self._t(args, o)
            if o["--initiator-address"] not in t.acl:
                _fail(
                    args, "tgtadm: this access control rule does not exist", 22
                )
            t.acl.remove(o["--initiator-address"])
        else:
            raise AssertionError(f"unexpected tgtadm {args}")

    def show(self) -> str:
        out = []
        for t in sorted(self.targets.values(), key=lambda t: t.tid):
            out += [
                f"Target {t.tid}: {t.iqn}",
                "    System information:",
                "        Driver: iscsi",
                "        State: ready",
                "    I_T nexus information:",
            ]
            for n in range(t.sessions):
                out += [
                    f"        I_T nexus: {n + 1}",
                    (
                        "            Initiator: iqn.2008-11.org.linux-kvm "
                        "alias: none"
                    ),
                    "            Connection: 0",
                    f"                IP Address: {t.peer(n)}",
                ]
            out += [
                "    LUN information:",
                "        LUN: 0",
                "            Type: controller",
                "            Backing store path: None",
            ]
            for lun, path in sorted(t.luns.items()):
                out += [
                    f"        LUN: {lun}",
                    "            Type: disk",
                    "            Size: 1074 MB, Block size: 512",
                    f"            Backing store path: {path}",
                    "            Backing store flags: ",
                ]
            out += ["    Account information:"]
            out += [f"        {u}" for u in t.accounts]
            out += ["    ACL information:"]
            out += [f"        {a}" for a in t.acl]
        return "\n".join(out) + ("\n" if out else "")
