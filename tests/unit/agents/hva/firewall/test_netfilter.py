"""What the netfilter firewall runs, and when (the commands themselves
are proven against the kernel in tests/integration/firewall)."""

import dataclasses

import pytest

from arame.agents.hva.firewall import InvalidPort, NetfilterFirewall, iptables
from arame.common import runner, secgroup_rules

from .samples import APP, DB, WEB, port, port_dict

EMPTY_SAVE = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\nCOMMIT\n"


@dataclasses.dataclass
class Call:
    args: list
    netns: str | None
    input: str | None


class Host:
    """Answers the read-only commands, records every call."""

    def __init__(self):
        self.calls: list[Call] = []
        self.iptables_save = EMPTY_SAVE
        self.ebtables_save = "*filter\n:INPUT ACCEPT\nCOMMIT\n"
        self.ipsets = ""
        self.conntrack = ""

    def run(self, args, *, netns=None, input=None, **kw):
        args = list(args)
        self.calls.append(Call(args, netns, input))
        out = {
            "iptables-save": self.iptables_save,
            "ebtables-save": self.ebtables_save,
            "iptables-restore": "iptables-restore v1.8.9 (nf_tables)",
        }.get(args[0], "")
        if args[:2] == ["ipset", "list"]:
            out = self.ipsets
        if args[:2] == ["conntrack", "-L"]:
            out = self.conntrack
        return runner.Result(args, 0, out, "")

    def commands(self, since=0) -> list[str]:
        return [" ".join(c.args[:2]) for c in self.calls[since:]]

    def last_input(self, prog: str) -> str:
        return [c.input for c in self.calls if c.args[0] == prog][-1]


@pytest.fixture
def host(monkeypatch):
    h = Host()
    monkeypatch.setattr(runner, "run", h.run)
    return h


def test_setup_creates_the_base_and_runs_in_the_namespace(host):
    NetfilterFirewall("lab1").setup()
    assert host.commands() == [
        "iptables-restore --version",
        "iptables-save -t",
        "ebtables-save -t",
        "iptables-restore --noflush",
        "ebtables-restore --noflush",
        "ipset list",  # sets no chain matches: none
    ]
    assert {c.netns for c in host.calls} == {"lab1"}
    assert (
        "-I FORWARD 1 -m physdev --physdev-is-bridged -j arame-fwd"
        in host.last_input("iptables-restore")
    )


def test_legacy_backend_waits_for_the_lock(host, monkeypatch):
    fw = NetfilterFirewall()
    orig = host.run

    def run(args, **kw):
        r = orig(args, **kw)
        if list(args) == ["iptables-restore", "--version"]:
            r.stdout = "iptables-restore v1.8.9 (legacy)"
        return r

    monkeypatch.setattr(runner, "run", run)
    fw.setup()
    assert host.calls[3].args == ["iptables-restore", "--noflush", "--wait=10"]


def test_first_apply_is_one_of_each_then_reapplying_runs_nothing(host):
    fw = NetfilterFirewall()
    fw.apply_port(port_dict())  # loads lazily first
    n = len(host.calls)
    assert host.commands(6) == [
        "ipset -exist",
        "iptables-restore --noflush",
        "ebtables-restore --noflush",
        "conntrack -L",
    ]
    text = host.last_input("iptables-restore")
    for chain in ("arame-in", "arame-sg-webweb01", "arame-in-i-3k9x2m0q"):
        assert f":{chain} - [0:0]\n" in text
    fw.apply_port(port_dict())  # what it applied already
    assert host.commands(n) == []
    assert fw.ports() == set()  # reads the host, not memory


def test_a_rule_change_rewrites_the_group_chain_only(host):
    fw = NetfilterFirewall()
    fw.apply_port(port_dict())
    changed = port_dict()
    changed["security_groups"][0]["rules"].append(
        {
            "protocol": "tcp",
            "from_port": 23,
            "to_port": 23,
            "cidr": "1.0.0.0/8",
        }
    )
    n = len(host.calls)
    fw.apply_port(changed)
    assert host.commands(n) == ["iptables-restore --noflush"]  # grew
    text = host.last_input("iptables-restore")
    assert text.splitlines()[:2] == ["*filter", ":arame-sg-webweb01 - [0:0]"]
    assert "-s 1.0.0.0/8 -p tcp -m tcp --dport 23 " in text
    assert "arame-in" not in text and "dbdbdb01" not in text


def test_apply_writes_sets_before_the_rules_that_match_them(host):
    NetfilterFirewall().apply_port(port_dict())
    sets = host.last_input("ipset")
    for gid in (WEB, DB, APP):
        assert f"create arame-{gid} hash:ip family inet" in sets
    assert "sg-unrelate" not in sets
    rules = host.last_input("iptables-restore")
    assert rules.startswith("*filter\n") and rules.endswith("COMMIT\n")
    assert "--match-set arame-sg-appapp01 src" in rules


def test_removing_a_rule_cuts_flows_adding_one_does_not(host):
    fw = NetfilterFirewall()
    fw.apply_port(port_dict())
    more = port_dict()
    more["security_groups"][0]["rules"].append(
        {"protocol": "udp", "from_port": 1, "to_port": 2, "cidr": "0.0.0.0/0"}
    )
    n = len(host.calls)
    fw.apply_port(more)
    assert "conntrack -L" not in host.commands(n)
    host.conntrack = (
        "udp 17 29 src=9.9.9.9 dst=10.0.0.5 sport=9 dport=2 "
        "src=10.0.0.5 dst=9.9.9.9 sport=2 dport=9 mark=0 use=1\n"
    )
    n = len(host.calls)
    fw.apply_port(port_dict())
    assert host.commands(n)[-2:] == ["conntrack -L", "conntrack -D"]
    assert host.calls[-1].args == [
        "conntrack",
        "-D",
        "-p",
        "udp",
        "-s",
        "9.9.9.9",
        "-d",
        "10.0.0.5",
        "--dport",
        "2",
    ]


def test_membership_changes_touch_only_the_set(host):
    fw = NetfilterFirewall()
    fw.apply_port(port_dict())
    n = len(host.calls)
    fw.set_group_members(APP, ["10.0.0.7", "10.0.0.9", "10.0.0.10"])
    assert host.commands(n) == ["ipset -exist"]  # grew: nothing to cut
    assert "add arame-tmp-sg-appapp01 10.0.0.10" in host.last_input("ipset")
    n = len(host.calls)
    fw.set_group_members(APP, ["10.0.0.7"])
    assert host.commands(n) == ["ipset -exist", "conntrack -L"]
    n = len(host.calls)
    fw.set_group_members("sg-elsewher", ["10.0.0.1"])  # no port uses it
    assert host.commands(n) == []


def test_remove_port_is_idempotent_and_collects_unused_sets(host):
    fw = NetfilterFirewall()
    fw.apply_port(port_dict())
    other = port_dict(
        instance_id="i-bbbbbbbb",
        device="tap-i-bbbbbbbb",
        ip="10.0.0.6",
        mac="52:54:00:00:00:06",
        security_groups=[{"id": WEB, "rules": []}],
    )
    fw.apply_port(other)
    host.ipsets = "\n".join(f"arame-{g}" for g in (WEB, DB, APP)) + "\n"
    n = len(host.calls)
    fw.remove_port("i-3k9x2m0q")
    assert host.commands(n) == [
        "iptables-restore --noflush",
        "ebtables-restore --noflush",
        "ipset list",
        "ipset restore",
    ]
    text = host.last_input("iptables-restore")
    assert "-X arame-in-i-3k9x2m0q\n" in text
    assert "-j arame-in-i-bbbbbbbb" in text  # the other stays
    assert host.last_input("ipset") == (
        "destroy arame-sg-appapp01\ndestroy arame-sg-dbdbdb01\n"
    )
    n = len(host.calls)
    fw.remove_port("i-3k9x2m0q")
    assert host.commands(n) == []


def test_a_restarted_agent_recovers_its_ports(host):
    first = NetfilterFirewall()
    first.apply_port(port_dict())
    body = [
        line
        for line in host.last_input("iptables-restore").splitlines()
        if line.startswith("-A")
    ]
    host.iptables_save = (
        "*filter\n:arame-in - [0:0]\n:arame-out - [0:0]\n"
        ":arame-in-i-3k9x2m0q - [0:0]\n"
        ":arame-out-i-3k9x2m0q - [0:0]\n"
        f"{iptables.FORWARD_JUMP}\n{iptables.INPUT_JUMP}\n"
        + "\n".join(body)
        + "\nCOMMIT\n"
    )
    host.ipsets = f"arame-{WEB}\narame-{DB}\narame-{APP}\n"
    fw = NetfilterFirewall()
    assert fw.ports() == {"i-3k9x2m0q"}
    fw.setup()
    setup = host.last_input("iptables-restore")
    assert ":arame-in " not in setup and "-I FORWARD" not in setup
    assert (
        "-A arame-l2-i-3k9x2m0q -p ARP --arp-ip-src 10.0.0.5 -j RETURN"
        in host.last_input("ebtables-restore")
    )
    # Its rules are unknown: the first apply checks the flows and, when
    # removing, knows which sets the chains used.
    n = len(host.calls)
    fw.apply_port(port_dict())
    assert host.commands(n) == [
        "ipset -exist",
        "iptables-restore --noflush",
        "conntrack -L",
    ]
    fw.remove_port("i-3k9x2m0q")
    assert host.last_input("ipset").count("destroy") == 3


def test_nothing_runs_for_an_invalid_port(host):
    fw = NetfilterFirewall()
    with pytest.raises(InvalidPort):
        fw.apply_port(port_dict(device="tap0; reboot"))
    with pytest.raises(InvalidPort):
        fw.remove_port("../etc")
    with pytest.raises(InvalidPort):
        fw.set_group_members("sg-x", [])
    with pytest.raises(InvalidPort):
        fw.set_group_members(WEB, ["10.0.0.1 -j ACCEPT"])
    assert host.calls == []


def test_a_failed_restore_changes_nothing_remembered(host, monkeypatch):
    fw = NetfilterFirewall()
    fw.setup()
    orig = host.run

    def run(args, **kw):
        if args[0] == "iptables-restore":
            raise runner.CommandError(args, "exit 1: bad rule", exit_code=1)
        return orig(args, **kw)

    monkeypatch.setattr(runner, "run", run)
    host.ipsets = f"arame-{WEB}\narame-{DB}\narame-{APP}\n"
    with pytest.raises(runner.CommandError):
        fw.apply_port(port_dict())
    # The sets made for it are gone again.
    assert host.last_input("ipset").count("destroy") == 3
    monkeypatch.setattr(runner, "run", orig)
    n = len(host.calls)
    fw.remove_port("i-3k9x2m0q")  # was never applied
    assert host.calls[n:] == []


def test_a_chain_removed_by_someone_else_is_reloaded_not_fatal(
    host, monkeypatch
):
    # Another agent (or an operator) removed a chain this agent knew: the
    # next change reloads what iptables holds and goes through.
    fw = NetfilterFirewall()
    fw.apply_port(port_dict())
    refused = []
    orig = host.run

    def run(args, **kw):
        if args[:2] == ["iptables-restore", "--noflush"] and not refused:
            refused.append(args)
            raise runner.CommandError(
                args,
                "exit 2: iptables-restore v1.8.9 (nf_tables): Chain "
                "'arame-out-i-web00001' does not exist",
                exit_code=2,
            )
        return orig(args, **kw)

    monkeypatch.setattr(runner, "run", run)
    before = len(host.calls)
    fw.apply_port(port_dict(instance_id="i-app00001", device="tap-i-app00001"))
    assert refused
    after = host.commands(before)
    assert "iptables-save -t" in after  # reloaded
    assert after.count("iptables-restore --noflush") >= 1


def _member(n: int, **kw) -> dict:
    iid = f"i-mem{n:05d}"
    d = {
        "instance_id": iid,
        "device": f"tap-{iid}",
        "ip": f"10.0.0.{10 + n}",
        "mac": f"52:54:00:00:01:{n:02x}",
    }
    return port_dict(**{**d, **kw})


def test_a_batch_costs_one_of_each_command_whatever_its_size(host):
    fw = NetfilterFirewall()
    fw.setup()
    n = len(host.calls)
    fw.apply_ports([_member(i) for i in range(5)])
    assert host.commands(n) == [
        "ipset -exist",
        "iptables-restore --noflush",
        "ebtables-restore --noflush",
        "conntrack -L",  # one listing of every flow for the five
    ]
    assert host.calls[-1].args == ["conntrack", "-L"]
    rules = host.last_input("iptables-restore")
    for i in range(5):
        assert f":arame-in-i-mem{i:05d} - [0:0]" in rules
    assert host.last_input("ipset").count(f"create arame-{WEB} ") == 1
    # A rule removed: the flows of every member it allowed are cut, from
    # the one listing.
    host.conntrack = "".join(
        f"udp 17 29 src=10.1.2.3 dst=10.0.0.{10 + i} sport=9 dport=53 "
        f"src=10.0.0.{10 + i} dst=10.1.2.3 sport=53 dport=9 use=1\n"
        for i in range(5)
    )
    narrower = [_member(i) for i in range(5)]
    for d in narrower:
        d["security_groups"][1]["rules"].pop(1)  # udp 53 from 10.1/16
    n = len(host.calls)
    fw.apply_ports(narrower)
    assert (
        host.commands(n)
        == ["iptables-restore --noflush", "conntrack -L"]
        + ["conntrack -D"] * 5
    )
    # One chain for the five: the group's.
    assert host.last_input("iptables-restore") == (
        "*filter\n:arame-sg-dbdbdb01 - [0:0]\n"
        + "".join(
            line + "\n"
            for line in iptables.group_rules(port().groups[1])
            if "udp" not in line
        )
        + "COMMIT\n"
    )
    assert fw.apply_ports([]) is None


def test_a_batch_with_an_invalid_port_runs_nothing(host):
    fw = NetfilterFirewall()
    with pytest.raises(InvalidPort):
        fw.apply_ports([_member(1), _member(2, device="tap0; reboot")])
    assert host.calls == []


def test_groups_sent_again_unchanged_are_not_checked_again(host, monkeypatch):
    fw = NetfilterFirewall()
    fw.apply_ports([_member(i) for i in range(3)])
    checked = []
    real = secgroup_rules.from_json

    def from_json(rules):
        checked.append(rules)
        return real(rules)

    monkeypatch.setattr(secgroup_rules, "from_json", from_json)
    again = [_member(i) for i in range(3)]
    for d in again:
        d["security_groups"][1]["rules"].pop(1)
    fw.apply_ports(again)
    assert len(checked) == 1  # DB's new rules, once for the three ports
