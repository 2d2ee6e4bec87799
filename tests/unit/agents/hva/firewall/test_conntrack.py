from arame.agents.hva.firewall import conntrack
from arame.agents.hva.firewall.conntrack import Flow

from .samples import port

LISTING = """\
tcp      6 431999 ESTABLISHED src=1.2.3.4 dst=10.0.0.5 sport=40000 dport=22 src=10.0.0.5 dst=1.2.3.4 sport=22 dport=40000 [ASSURED] mark=0 use=1
tcp      6 431999 ESTABLISHED src=1.2.3.4 dst=10.0.0.5 sport=40001 dport=23 src=10.0.0.5 dst=1.2.3.4 sport=23 dport=40001 [ASSURED] mark=0 use=1
tcp      6 431999 ESTABLISHED src=1.2.3.4 dst=10.0.0.5 sport=40002 dport=23 src=10.0.0.5 dst=1.2.3.4 sport=23 dport=40002 [ASSURED] mark=0 use=1
udp      17 29 src=10.0.0.7 dst=10.0.0.5 sport=5353 dport=3306 [UNREPLIED] src=10.0.0.5 dst=10.0.0.7 sport=3306 dport=5353 mark=0 use=1
udp      17 29 src=10.0.0.1 dst=10.0.0.5 sport=67 dport=68 src=10.0.0.5 dst=10.0.0.1 sport=68 dport=67 mark=0 use=1
icmp     1 29 src=8.8.8.8 dst=10.0.0.5 type=8 code=0 id=7 src=10.0.0.5 dst=8.8.8.8 type=0 code=0 id=7 mark=0 use=1
icmp     1 29 src=10.0.0.5 dst=8.8.8.8 type=8 code=0 id=9 src=8.8.8.8 dst=10.0.0.5 type=0 code=0 id=9 mark=0 use=1
unknown  47 599 src=1.2.3.4 dst=10.0.0.5 src=10.0.0.5 dst=1.2.3.4 mark=0 use=1
"""


def test_parse_takes_the_original_direction():
    flows = conntrack.parse(LISTING)
    assert flows[0] == Flow("tcp", "1.2.3.4", "10.0.0.5", 40000, 22)
    assert flows[5] == Flow(
        "icmp", "8.8.8.8", "10.0.0.5", icmp_type=8, icmp_code=0
    )
    assert len(flows) == 7


def test_only_flows_that_lost_their_permission_are_cut():
    p = port()
    keys = conntrack.disallowed(
        conntrack.parse(LISTING), "10.0.0.5", p.allowance(p.members)
    )
    # 22 from anywhere, DHCP, icmp from anywhere stay; the guest's own
    # ping (dst elsewhere) is not ours to judge.
    assert keys == {
        ("tcp", "1.2.3.4", None, 23),
        ("udp", "10.0.0.7", None, 3306),
    }


def test_delete_commands():
    assert conntrack.delete_args("10.0.0.5", ("tcp", "1.2.3.4", None, 23)) == [
        "conntrack",
        "-D",
        "-p",
        "tcp",
        "-s",
        "1.2.3.4",
        "-d",
        "10.0.0.5",
        "--dport",
        "23",
    ]
    assert conntrack.delete_args("10.0.0.5", ("icmp", "8.8.8.8", 8, 0)) == [
        "conntrack",
        "-D",
        "-p",
        "icmp",
        "-s",
        "8.8.8.8",
        "-d",
        "10.0.0.5",
        "--icmp-type",
        "8",
        "--icmp-code",
        "0",
    ]


def test_cut_lists_once_and_deletes_per_verdict(monkeypatch):
    calls = []

    def run(args, **kw):
        calls.append(list(args))
        return type("R", (), {"stdout": LISTING if "-L" in args else ""})()

    monkeypatch.setattr(conntrack.runner, "run", run)
    p = port()
    assert conntrack.cut("10.0.0.5", p.allowance(p.members), "lab") == 2
    assert calls[0] == ["conntrack", "-L", "-d", "10.0.0.5"]
    assert [c[:2] for c in calls[1:]] == [["conntrack", "-D"]] * 2
