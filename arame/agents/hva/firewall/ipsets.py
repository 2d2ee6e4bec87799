"""Security group membership as ipsets, one `hash:ip` set per group.

The chains match `--match-set arame-sg-<id> src`, so a member joining or
leaving a group changes one set and no rule. A set's contents are replaced
atomically: fill a temporary set, then swap it with the live one.
"""

from arame.common import runner

PREFIX = "arame-"
_TMP = "arame-tmp-"
_CREATE = "hash:ip family inet"


def set_name(group_id: str) -> str:
    return PREFIX + group_id  # arame-sg-3k9x2m0q, 17 characters


def _tmp_name(group_id: str) -> str:
    return _TMP + group_id  # within ipset's 31 characters


def render(members: dict[str, tuple[str, ...] | None]) -> str:
    """`ipset -exist restore` text: each group's set exists afterwards;
    when its members are known (not None) they become exactly its
    contents."""
    lines = []
    for gid, ips in sorted(members.items()):
        live = set_name(gid)
        lines.append(f"create {live} {_CREATE}")
        if ips is None:
            continue
        tmp = _tmp_name(gid)
        lines += [f"create {tmp} {_CREATE}", f"flush {tmp}"]
        lines += [f"add {tmp} {ip}" for ip in ips]
        lines += [f"swap {tmp} {live}", f"destroy {tmp}"]
    return "".join(line + "\n" for line in lines)


def restore(text: str, netns: str | None) -> None:
    if text:
        runner.run(
            ["ipset", "-exist", "restore"], input=text, netns=netns, timeout=30
        )


def _names(netns: str | None) -> set[str]:
    out = runner.run(["ipset", "list", "-n"], netns=netns, timeout=30).stdout
    return set(out.split())


def existing(netns: str | None) -> set[str]:
    """Group ids of our sets on the host (a temporary one left by a crash
    counts as its group's)."""
    groups = set()
    for name in _names(netns):
        for prefix in (_TMP, PREFIX):
            if name.startswith(prefix + "sg-"):
                groups.add(name[len(prefix) :])
                break
    return groups


def destroy(group_ids, netns: str | None) -> None:
    """Remove the sets (and any temporary twin) of groups no chain uses."""
    names = _names(netns)
    lines = [
        f"destroy {n}\n"
        for gid in sorted(set(group_ids))
        for n in (set_name(gid), _tmp_name(gid))
        if n in names
    ]
    if lines:
        runner.run(
            ["ipset", "restore"], input="".join(lines), netns=netns, timeout=30
        )
