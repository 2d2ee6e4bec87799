"""The generated iptables-restore text, line for line (it is also what
iptables-save prints back, which the integration tests rely on)."""

from arame.agents.hva.firewall import iptables

from .samples import port

GOLDEN_PORT = """\
-A arame-in-i-3k9x2m0q -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A arame-in-i-3k9x2m0q -m conntrack --ctstate INVALID -j DROP
-A arame-in-i-3k9x2m0q -p udp -m udp --sport 67 --dport 68 -j ACCEPT
-A arame-in-i-3k9x2m0q -j arame-sg-webweb01
-A arame-in-i-3k9x2m0q -j arame-sg-dbdbdb01
-A arame-in-i-3k9x2m0q -j DROP
-A arame-out-i-3k9x2m0q -s 0.0.0.0/32 -d 255.255.255.255/32 -p udp -m udp --sport 68 --dport 67 -m mac --mac-source 52:54:00:ab:cd:01 -j RETURN
-A arame-out-i-3k9x2m0q -p udp -m udp --sport 67 --dport 68 -j DROP
-A arame-out-i-3k9x2m0q -p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j DROP
-A arame-out-i-3k9x2m0q -s 10.0.0.5/32 -m mac --mac-source 52:54:00:ab:cd:01 -j RETURN
-A arame-out-i-3k9x2m0q -j DROP
"""

GOLDEN_WEB = """\
-A arame-sg-webweb01 -m set --match-set arame-sg-webweb01 src -m comment --comment "member of sg-webweb01" -j ACCEPT
-A arame-sg-webweb01 -p tcp -m tcp --dport 22 -m comment --comment "sg-webweb01 tcp:22,22,ip4:0.0.0.0/0" -j ACCEPT
-A arame-sg-webweb01 -s 10.0.0.0/8 -p tcp -m tcp --dport 8000:8080 -m comment --comment "sg-webweb01 tcp:8000,8080,ip4:10.0.0.0/8" -j ACCEPT
-A arame-sg-webweb01 -p icmp -m comment --comment "sg-webweb01 icmp:-1,-1,ip4:0.0.0.0/0" -j ACCEPT
-A arame-sg-webweb01 -s 192.168.1.0/24 -p icmp -m icmp --icmp-type 3/4 -m comment --comment "sg-webweb01 icmp:3,4,ip4:192.168.1.0/24" -j ACCEPT
"""

GOLDEN_DB = """\
-A arame-sg-dbdbdb01 -m set --match-set arame-sg-dbdbdb01 src -m comment --comment "member of sg-dbdbdb01" -j ACCEPT
-A arame-sg-dbdbdb01 -p tcp -m tcp --dport 3306 -m set --match-set arame-sg-appapp01 src -m comment --comment "sg-dbdbdb01 tcp:3306,3306,sg-appapp01" -j ACCEPT
-A arame-sg-dbdbdb01 -s 10.1.0.0/16 -p udp -m udp --dport 53 -m comment --comment "sg-dbdbdb01 udp:53,53,ip4:10.1.0.0/16" -j ACCEPT
-A arame-sg-dbdbdb01 -p icmp -m icmp --icmp-type 8 -m comment --comment "sg-dbdbdb01 icmp:8,-1,ip4:0.0.0.0/0" -j ACCEPT
"""


def lines(rules: list[str]) -> str:
    return "".join(line + "\n" for line in rules)


def test_port_chains_jump_to_their_groups():
    assert lines(iptables.port_rules(port())) == GOLDEN_PORT


def test_group_chains_hold_their_rules_once():
    web, db = port().groups
    assert lines(iptables.group_rules(web)) == GOLDEN_WEB
    assert lines(iptables.group_rules(db)) == GOLDEN_DB


def test_one_transaction_rewrites_one_port_and_removes_another():
    text = iptables.render(
        {"i-3k9x2m0q": "tap-i-3k9x2m0q", "i-aaaaaaaa": "tap-i-aaaaaaaa"},
        rewrite=[port()],
        remove=["i-gonegone"],
        groups=list(port().groups),
        drop_groups=["sg-gonegone"],
    )
    assert text == (
        "*filter\n"
        ":arame-in - [0:0]\n"
        ":arame-out - [0:0]\n"
        ":arame-sg-webweb01 - [0:0]\n"
        ":arame-sg-dbdbdb01 - [0:0]\n"
        ":arame-in-i-3k9x2m0q - [0:0]\n"
        ":arame-out-i-3k9x2m0q - [0:0]\n"
        ":arame-in-i-gonegone - [0:0]\n"
        ":arame-out-i-gonegone - [0:0]\n"
        ":arame-sg-gonegone - [0:0]\n"
        "-A arame-out -m physdev --physdev-in tap-i-3k9x2m0q -j arame-out-i-3k9x2m0q\n"
        "-A arame-out -m physdev --physdev-in tap-i-aaaaaaaa -j arame-out-i-aaaaaaaa\n"
        "-A arame-in -m physdev --physdev-out tap-i-3k9x2m0q --physdev-is-bridged -j arame-in-i-3k9x2m0q\n"
        "-A arame-in -m physdev --physdev-out tap-i-aaaaaaaa --physdev-is-bridged -j arame-in-i-aaaaaaaa\n"
        + GOLDEN_WEB
        + GOLDEN_DB
        + GOLDEN_PORT
        + "-X arame-in-i-gonegone\n"
        "-X arame-out-i-gonegone\n"
        # Last: the port chains that jumped there are flushed by now.
        "-X arame-sg-gonegone\n"
        "COMMIT\n"
    )


def test_a_rule_change_is_one_chain_whatever_the_members():
    web = port().groups[0]
    assert iptables.render(None, groups=[web]) == (
        "*filter\n:arame-sg-webweb01 - [0:0]\n" + GOLDEN_WEB + "COMMIT\n"
    )


def test_the_same_port_renders_the_same_text():
    assert iptables.render({"i-3k9x2m0q": "t"}, [port()]) == iptables.render(
        {"i-3k9x2m0q": "t"}, [port()]
    )


def test_chain_names_fit_iptables():
    assert len(iptables.out_chain("i-3k9x2m0q")) <= 28
    assert len(iptables.group_chain("sg-3k9x2m0q")) <= 28


def test_setup_creates_only_what_is_missing():
    assert iptables.render_setup(set(), False, False) == (
        "*filter\n"
        ":arame-fwd - [0:0]\n:arame-in - [0:0]\n:arame-out - [0:0]\n"
        "-A arame-fwd -j arame-out\n-A arame-fwd -j arame-in\n"
        "-I FORWARD 1 -m physdev --physdev-is-bridged -j arame-fwd\n"
        "-I INPUT 1 -m physdev --physdev-is-in -j arame-out\n"
        "COMMIT\n"
    )
    # Existing dispatch chains are never flushed (that would open every
    # port until the next apply).
    assert iptables.render_setup({"arame-in", "arame-out"}, True, True) == (
        "*filter\n:arame-fwd - [0:0]\n"
        "-A arame-fwd -j arame-out\n-A arame-fwd -j arame-in\nCOMMIT\n"
    )


def saved(*ports_text: str) -> str:
    """What iptables-save prints after those restores."""
    lines = [
        "# Generated by iptables-save",
        "*filter",
        ":INPUT ACCEPT [0:0]",
        ":FORWARD ACCEPT [0:0]",
        ":arame-in - [0:0]",
        ":arame-in-i-3k9x2m0q - [0:0]",
        ":arame-out-i-3k9x2m0q - [0:0]",
        "-A INPUT -m physdev --physdev-is-in -j arame-out",
        "-A FORWARD -m physdev --physdev-is-bridged -j arame-fwd",
    ]
    return "\n".join(lines + list(ports_text) + ["COMMIT"]) + "\n"


def test_parse_save_recovers_ports_and_group_chains():
    p = port()
    text = iptables.render(
        {"i-3k9x2m0q": "tap-i-3k9x2m0q"}, [p], groups=list(p.groups)
    )
    body = [line for line in text.splitlines() if line.startswith("-A")]
    got = iptables.parse_save(
        saved(
            ":arame-sg-webweb01 - [0:0]",
            ":arame-sg-dbdbdb01 - [0:0]",
            ":arame-sg-unused01 - [0:0]",
            *body,
        )
    )
    assert got["forward_jump"] and got["input_jump"]
    assert {"arame-in", "arame-in-i-3k9x2m0q", "INPUT"} <= got["chains"]
    assert got["ports"] == {
        "i-3k9x2m0q": {
            "tap": "tap-i-3k9x2m0q",
            "ip": "10.0.0.5",
            "mac": "52:54:00:ab:cd:01",
            "groups": ("sg-webweb01", "sg-dbdbdb01"),
            "sets": set(),
        }
    }
    assert got["groups"] == {
        "sg-webweb01": {"sg-webweb01"},
        "sg-dbdbdb01": {"sg-dbdbdb01", "sg-appapp01"},
        "sg-unused01": set(),
    }


def test_parse_save_of_rules_from_before_group_chains():
    # An hva before group chains matched the sets in the port's chain: an
    # upgrade keeps those sets until the port is next applied.
    got = iptables.parse_save(
        saved(
            "-A arame-in-i-3k9x2m0q -m set --match-set arame-sg-webweb01 "
            "src -j ACCEPT",
            "-A arame-in-i-3k9x2m0q -p tcp -m tcp --dport 3306 -m set "
            "--match-set arame-sg-appapp01 src -j ACCEPT",
        )
    )
    port_ = got["ports"]["i-3k9x2m0q"]
    assert port_["groups"] == ()
    assert port_["sets"] == {"sg-webweb01", "sg-appapp01"}


def test_parse_save_of_a_bare_host():
    got = iptables.parse_save("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n")
    assert got == {
        "chains": {"INPUT"},
        "ports": {},
        "groups": {},
        "forward_jump": False,
        "input_jump": False,
    }
