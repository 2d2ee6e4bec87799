"""hva killed in the middle of a change, on the rules a kernel holds (an
in-memory one, kernel.py): whatever step it died before, a restarted
agent (setup, then the change asked again, as the flow retries it)
leaves the host exactly as the change applied in one go would have."""

import pytest

from arame.agents.hva.firewall import NetfilterFirewall
from arame.common import runner

from .kernel import Kernel

WEB, DB, APP, OLD = "sg-webweb01", "sg-dbdbdb01", "sg-appapp01", "sg-oldold01"


def tcp(port, source="0.0.0.0/0"):
    rule = {"protocol": "tcp", "from_port": port, "to_port": port}
    rule["group_id" if source.startswith("sg-") else "cidr"] = source
    return rule


def member(n, groups):
    iid = f"i-mem{n:05d}"
    return {
        "instance_id": iid,
        "device": f"tap-{iid}",
        "mac": f"52:54:00:00:01:{n:02x}",
        "ip": f"10.0.0.{10 + n}",
        "security_groups": [{"id": g, "rules": r} for g, r in groups.items()],
        "group_members": {WEB: ["10.0.0.10", "10.0.0.11", "10.0.0.12"]},
    }


# Before: two members of WEB, one of them also in OLD (whose rule lets
# APP's members in). The change: WEB's rule 80 becomes 8080, member 1
# leaves OLD (its chain is no longer used: removed), member 2 arrives.
BEFORE = [
    member(0, {WEB: [tcp(80)]}),
    member(1, {WEB: [tcp(80)], OLD: [tcp(3306, APP)]}),
]
AFTER = [
    member(0, {WEB: [tcp(8080)]}),
    member(1, {WEB: [tcp(8080)], DB: [tcp(5432)]}),
    member(2, {WEB: [tcp(8080)]}),
]


class Killed(BaseException):
    """The agent's process ends here: nothing after it runs."""


MUTATING = ("ipset", "ebtables-restore", "conntrack")


def mutating(args) -> bool:
    if args[0] == "iptables-restore":
        return "--version" not in args
    if args[:2] in (["ipset", "list"], ["conntrack", "-L"]):
        return False
    return args[0] in MUTATING


def clean_result() -> tuple:
    k = Kernel()
    fw = NetfilterFirewall()
    with _on(k):
        fw.setup()
        fw.apply_ports(AFTER)
    return k.state()


class _on:
    def __init__(self, kernel, kill_at=None):
        self.kernel, self.kill_at, self.seen = kernel, kill_at, 0

    def run(self, args, **kw):
        if mutating(args):
            if self.seen == self.kill_at:
                raise Killed(args)
            self.seen += 1
        return self.kernel.run(args, **kw)

    def __enter__(self):
        self._mp = pytest.MonkeyPatch()
        self._mp.setattr(runner, "run", self.run)
        return self

    def __exit__(self, *exc):
        self._mp.undo()


def steps_of_the_change() -> int:
    k = Kernel()
    fw = NetfilterFirewall()
    with _on(k):
        fw.setup()
        fw.apply_ports(BEFORE)
    with _on(k) as counter:
        fw.apply_ports(AFTER)
    return counter.seen


def test_killed_at_any_step_a_restart_converges():
    steps = steps_of_the_change()
    # ipset, iptables, ebtables (the new port): a kill can fall between.
    assert steps >= 3
    clean = clean_result()
    for kill_at in range(steps):
        k = Kernel()
        with _on(k):
            first = NetfilterFirewall()
            first.setup()
            first.apply_ports(BEFORE)
        with _on(k, kill_at), pytest.raises(Killed):
            first.apply_ports(AFTER)
        with _on(k):
            again = NetfilterFirewall()  # the restarted agent
            again.setup()
            n = len(k.commands)
            again.apply_ports(AFTER)  # the flow's retry
        # What the dead agent may not have cut, the retry does.
        assert ["conntrack", "-L"] in k.commands[n:]
        assert k.state() == clean, f"killed before step {kill_at}"
        assert f"arame-{OLD}" not in k.save()
        assert f"arame-{APP}" not in k.sets


def test_a_restart_removes_group_chains_no_port_uses():
    k = Kernel()
    with _on(k):
        fw = NetfilterFirewall()
        fw.setup()
        fw.apply_ports(BEFORE)
    # Left by hand, or by an agent gone: a group chain nobody jumps to,
    # and a set no chain matches.
    k.chains["arame-sg-stale001"] = ["-A arame-sg-stale001 -j ACCEPT"]
    k.sets.add("arame-sg-stale001")
    with _on(k):
        NetfilterFirewall().setup()
    assert "arame-sg-stale001" not in k.save()
    assert k.sets == {f"arame-{g}" for g in (WEB, OLD, APP)}
    assert ":arame-sg-oldold01 " in k.save()  # member 1 still jumps there


def test_group_chains_are_shared_and_go_with_their_last_member():
    k = Kernel()
    with _on(k):
        fw = NetfilterFirewall()
        fw.setup()
        fw.apply_ports(AFTER)
        saved = k.save()
        assert saved.count("--dport 8080 ") == 1  # one WEB chain
        assert saved.count("-j arame-sg-webweb01") == 3
        fw.remove_port("i-mem00001")
        assert "arame-sg-dbdbdb01" not in k.save()
        assert "arame-sg-dbdbdb01" not in k.sets
        fw.remove_port("i-mem00000")
        fw.remove_port("i-mem00002")
    assert "arame-sg" not in k.save() and k.sets == set()


def test_a_group_chain_another_agent_jumps_to_stays():
    # Two agents sharing a namespace (a lab): one's last member of a group
    # leaves while the other's guest still jumps to the group's chain.
    k = Kernel()
    with _on(k):
        fw = NetfilterFirewall()
        fw.setup()
        fw.apply_ports(BEFORE[:1])
        k.chains["arame-in-i-others01"] = [
            "-A arame-in-i-others01 -j arame-sg-webweb01"
        ]
        n = len(k.commands)
        fw.remove_port("i-mem00000")
    restores = [c for c in k.commands[n:] if c[0] == "iptables-restore"]
    assert len(restores) == 2  # refused with the -X, then without
    assert "i-mem00000" not in k.save()
    assert ":arame-sg-webweb01 " in k.save()
    assert f"arame-{WEB}" in k.sets


def test_a_set_something_else_matches_does_not_stop_the_start():
    k = Kernel()
    k.sets.add("arame-sg-foreign1")
    k.chains["FORWARD"].append(
        "-A FORWARD -m set --match-set arame-sg-foreign1 src -j ACCEPT"
    )
    with _on(k):
        NetfilterFirewall().setup()
    assert "arame-sg-foreign1" in k.sets


def test_chains_of_before_group_chains_are_kept_then_rewritten():
    # An hva before group chains left a port with its rules in its own
    # chain: the upgraded agent keeps it (and the set it matches) until
    # the port is next applied, which moves the rules to the group chain.
    k = Kernel()
    k.sets.add(f"arame-{WEB}")
    iid, tap = "i-mem00000", "tap-i-mem00000"
    k.chains.update(
        {
            "arame-in": [
                f"-A arame-in -m physdev --physdev-out {tap} "
                f"--physdev-is-bridged -j arame-in-{iid}"
            ],
            "arame-out": [
                f"-A arame-out -m physdev --physdev-in {tap} "
                f"-j arame-out-{iid}"
            ],
            f"arame-in-{iid}": [
                f"-A arame-in-{iid} -m set --match-set arame-{WEB} src "
                "-j ACCEPT",
                f"-A arame-in-{iid} -p tcp -m tcp --dport 80 -j ACCEPT",
                f"-A arame-in-{iid} -j DROP",
            ],
            f"arame-out-{iid}": [
                f"-A arame-out-{iid} -s 10.0.0.10/32 -m mac --mac-source "
                "52:54:00:00:01:00 -j RETURN",
                f"-A arame-out-{iid} -j DROP",
            ],
        }
    )
    with _on(k):
        fw = NetfilterFirewall()
        fw.setup()
        assert fw.ports() == {iid}
        assert f"arame-{WEB}" in k.sets  # its chain still matches it
        fw.apply_ports(BEFORE[:1])
    assert (
        k.chains[f"arame-in-{iid}"][3] == f"-A arame-in-{iid} -j arame-{WEB}"
    )
    assert "--dport 80 " in "\n".join(k.chains[f"arame-{WEB}"])


def _with_revision(port, revision):
    return {
        **port,
        "security_groups": [
            {**g, "revision": revision} for g in port["security_groups"]
        ],
    }


def test_a_spec_read_before_a_group_change_does_not_put_its_rules_back():
    # A PATCH of WEB (revision 2, rule 8080) reached the host first; a
    # build's spec read before it (revision 1, rule 80) lands after: the
    # group's chain, shared by every member on the host, keeps 8080.
    k = Kernel()
    with _on(k):
        fw = NetfilterFirewall()
        fw.setup()
        fw.apply_ports([_with_revision(member(0, {WEB: [tcp(8080)]}), 2)])
        fw.apply_ports([_with_revision(member(1, {WEB: [tcp(80)]}), 1)])
    saved = k.save()
    assert "--dport 8080" in saved and "--dport 80 " not in saved
    assert f"arame-{WEB}" in saved
    with _on(k):  # the member of the late spec is filtered all the same
        assert fw.ports() == {"i-mem00000", "i-mem00001"}
        # A newer revision (or a sender that names none) is applied.
        fw.apply_ports([_with_revision(member(1, {WEB: [tcp(443)]}), 3)])
    assert "--dport 443" in k.save() and "--dport 8080" not in k.save()
    with _on(k):
        fw.apply_ports([member(0, {WEB: [tcp(22)]})])
    assert "--dport 22" in k.save()
