import pytest

from arame.common import secgroup_rules as sr
from arame.common.secgroup_rules import Rule, RuleError

TEXT = """\
# web servers
tcp:22,22,ip4:0.0.0.0/0        # ssh
tcp:80,443,ip4:10.0.0.0/8
udp:53,53,ip4:10.1.2.3/32

icmp:-1,-1,ip4:0.0.0.0/0
icmp:8,-1,ip4:192.168.0.0/16
icmp:3,4,ip4:0.0.0.0/0
tcp:3306,3306,sg-3k9x2m0q
"""


def test_text_parses_to_rules():
    assert sr.parse_text(TEXT) == [
        Rule("tcp", 22, 22, cidr="0.0.0.0/0"),
        Rule("tcp", 80, 443, cidr="10.0.0.0/8"),
        Rule("udp", 53, 53, cidr="10.1.2.3/32"),
        Rule("icmp", -1, -1, cidr="0.0.0.0/0"),
        Rule("icmp", 8, -1, cidr="192.168.0.0/16"),
        Rule("icmp", 3, 4, cidr="0.0.0.0/0"),
        Rule("tcp", 3306, 3306, group_id="sg-3k9x2m0q"),
    ]


def test_round_trips_are_stable():
    rules = sr.parse_text(TEXT)
    text = sr.to_text(rules)
    assert text.splitlines()[0] == "tcp:22,22,ip4:0.0.0.0/0"
    assert sr.parse_text(text) == rules
    assert sr.to_text(sr.parse_text(text)) == text
    assert sr.from_json(sr.to_json(rules)) == rules
    assert sr.to_text([]) == "" and sr.parse_text("") == []


def test_json_form():
    rules = sr.parse_text("tcp:22,22,ip4:0.0.0.0/0\ntcp:1,2,sg-3k9x2m0q")
    assert sr.to_json(rules) == [
        {
            "protocol": "tcp",
            "from_port": 22,
            "to_port": 22,
            "cidr": "0.0.0.0/0",
        },
        {
            "protocol": "tcp",
            "from_port": 1,
            "to_port": 2,
            "group_id": "sg-3k9x2m0q",
        },
    ]


def test_whitespace_case_and_comments_are_tolerated():
    rules = sr.parse_text(
        "  TCP : 22 , 22 , IP4: 10.0.0.0/8 # x\r\n\t# only a comment\n   \n"
    )
    assert rules == [Rule("tcp", 22, 22, cidr="10.0.0.0/8")]


def test_bare_addresses():
    rules = sr.parse_text("tcp:22,22,ip4:0.0.0.0\ntcp:22,22,ip4:10.0.0.5")
    assert [r.cidr for r in rules] == ["0.0.0.0/0", "10.0.0.5/32"]


def test_duplicates_are_dropped_keeping_the_first():
    text = (
        "tcp:80,80,ip4:0.0.0.0/0\ntcp:22,22,ip4:0.0.0.0/0\n"
        "tcp:80,80,ip4:0.0.0.0\n"
    )
    assert sr.to_text(sr.parse_text(text)) == (
        "tcp:80,80,ip4:0.0.0.0/0\ntcp:22,22,ip4:0.0.0.0/0\n"
    )
    item = {"protocol": "udp", "from_port": 1, "to_port": 1, "cidr": "1.2.3.4"}
    assert len(sr.from_json([item, dict(item, cidr="1.2.3.4/32")])) == 1


@pytest.mark.parametrize(
    "line, column, words",
    [
        (
            "tcp:70000,70000,ip4:0.0.0.0/0",
            5,
            "port 70000 is out of range 1-65535",
        ),
        ("tcp:22,70000,ip4:0.0.0.0/0", 8, "port 70000 is out of range"),
        ("tcp:0,0,ip4:0.0.0.0/0", 5, "1,65535 means every port"),
        ("udp:-1,-1,ip4:0.0.0.0/0", 5, "out of range"),
        ("tcp:23,22,ip4:0.0.0.0/0", 8, "ends before it starts"),
        ("sctp:1,2,ip4:0.0.0.0/0", 1, "unknown protocol 'sctp'"),
        ("  tcp:x,2,ip4:0.0.0.0/0", 7, "from port 'x' is not a number"),
        ("tcp:1,,ip4:0.0.0.0/0", 7, "missing to port"),
        ("icmp:256,-1,ip4:0.0.0.0/0", 6, "icmp type 256 is out of range"),
        ("icmp:8,300,ip4:0.0.0.0/0", 8, "icmp code 300"),
        ("icmp:-1,0,ip4:0.0.0.0/0", 9, "an icmp code needs an icmp type"),
        ("tcp:1,2,ip4:10.0.0.5/8", 13, "host bits set: write 10.0.0.0/8"),
        ("tcp:1,2, ip4: 10.0.0.0/33", 15, "bad prefix length"),
        ("tcp:1,2,ip4:300.0.0.1", 13, "not an IPv4 address"),
        ("tcp:1,2,ip4:::1", 13, "not an IPv4 address"),
        ("tcp:1,2,ip4:", 13, "missing address after ip4:"),
        ("tcp:1,2,sg-BAD", 9, "'sg-BAD' is not a security group id"),
        (
            "tcp:1,2,10.0.0.0/8",
            9,
            "expected ip4:<cidr> or a security group id",
        ),
        ("tcp:1,2,", 9, "missing source"),
        ("tcp:1,2", 8, "expected from,to,source"),
        ("tcp 1 2", 1, "expected protocol:from,to,source"),
        ("tcp:1,2,ip4:0.0.0.0/0,x", 23, "unexpected 'x'"),
    ],
)
def test_errors_point_at_the_token(line, column, words):
    with pytest.raises(RuleError) as e:
        sr.parse_text("# first\n\n" + line + "   # trailing comment")
    assert (e.value.line, e.value.column) == (3, column)
    assert words in e.value.reason
    assert str(e.value) == f"line 3, column {column}: {e.value.reason}"
    assert e.value.details() == {"line": 3, "column": column}


def test_the_example_message():
    with pytest.raises(RuleError) as e:
        sr.parse_text(
            "tcp:22,22,ip4:0.0.0.0/0\n\n    tcp:70000,70000,ip4:0.0.0.0/0"
        )
    assert e.value.message == (
        "line 3, column 9: port 70000 is out of range 1-65535"
    )


def test_at_most_100_rules():
    ok = "".join(f"tcp:{p},{p},ip4:0.0.0.0/0\n" for p in range(1, 101))
    assert len(sr.parse_text(ok + ok)) == 100  # duplicates do not count
    with pytest.raises(RuleError, match="line 101, column 1: .*at most 100"):
        sr.parse_text(ok + "tcp:999,999,ip4:0.0.0.0/0")
    items = sr.to_json(sr.parse_text(ok)) + [
        {"protocol": "udp", "from_port": 1, "to_port": 1, "cidr": "1.1.1.1"}
    ]
    with pytest.raises(RuleError, match="rule 101: .*at most 100"):
        sr.from_json(items)


def test_lines_and_text_are_bounded():
    with pytest.raises(RuleError, match="line 2, column 256: line is longer"):
        sr.parse_text("\n" + "#" * 300)
    with pytest.raises(RuleError, match="longer than 65536"):
        sr.parse_text("\n" * 70000)
    with pytest.raises(RuleError, match="must be a string"):
        sr.parse_text(None)


@pytest.mark.parametrize(
    "item, field, words",
    [
        (
            {"protocol": "tcp", "from_port": 1, "to_port": 2},
            "cidr",
            "exactly one source",
        ),
        (
            {
                "protocol": "tcp",
                "from_port": 1,
                "to_port": 2,
                "cidr": "0.0.0.0/0",
                "group_id": "sg-3k9x2m0q",
            },
            "group_id",
            "not both",
        ),
        (
            {
                "protocol": "tcp",
                "from_port": "22",
                "to_port": 22,
                "cidr": "0.0.0.0/0",
            },
            "from_port",
            "must be an integer",
        ),
        (
            {
                "protocol": "tcp",
                "from_port": True,
                "to_port": 22,
                "cidr": "0.0.0.0/0",
            },
            "from_port",
            "must be an integer",
        ),
        (
            {"protocol": "tcp", "to_port": 22, "cidr": "0.0.0.0/0"},
            "from_port",
            "missing from_port",
        ),
        (
            {"protocol": 6, "from_port": 1, "to_port": 2, "cidr": "0.0.0.0/0"},
            "protocol",
            "must be a string",
        ),
        (
            {
                "protocol": "tcp",
                "from_port": 1,
                "to_port": 2,
                "cidr": "0.0.0.0/0",
                "direction": "in",
            },
            "direction",
            "unknown field",
        ),
        (
            {"protocol": "tcp", "from_port": 1, "to_port": 2, "cidr": 10},
            "cidr",
            "must be a string",
        ),
        (
            {"protocol": "tcp", "from_port": 1, "to_port": 2, "group_id": "x"},
            "group_id",
            "not a security group id",
        ),
    ],
)
def test_json_errors_name_rule_and_field(item, field, words):
    good = {
        "protocol": "udp",
        "from_port": 53,
        "to_port": 53,
        "cidr": "0.0.0.0/0",
    }
    with pytest.raises(RuleError) as e:
        sr.from_json([good, item])
    assert (e.value.index, e.value.field) == (2, field)
    assert words in e.value.reason
    assert str(e.value).startswith(f"rule 2, {field}: ")
    assert e.value.details() == {"index": 2, "field": field}


def test_json_must_be_a_list_of_objects():
    with pytest.raises(RuleError, match="must be a list"):
        sr.from_json({"protocol": "tcp"})
    with pytest.raises(RuleError, match="rule 1: a rule must be an object"):
        sr.from_json(["tcp:22,22,ip4:0.0.0.0/0"])


def test_rule_validates_itself_and_is_frozen():
    with pytest.raises(RuleError) as e:
        Rule("tcp", 1, 99999, cidr="0.0.0.0/0")
    assert e.value.field == "to_port" and e.value.line is None
    rule = Rule("udp", 5, 6, cidr="10.0.0.7")
    assert rule.cidr == "10.0.0.7/32" and rule.source == "ip4:10.0.0.7/32"
    assert hash(rule) == hash(Rule("udp", 5, 6, cidr="10.0.0.7/32"))
    with pytest.raises(AttributeError):
        rule.from_port = 1
