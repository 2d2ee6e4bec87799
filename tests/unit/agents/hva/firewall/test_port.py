import pytest

from arame.agents.hva.firewall.port import InvalidPort, Port, admits
from arame.common.secgroup_rules import Rule

from .samples import APP, DB, WEB, port, port_dict


def test_from_dict_normalises_and_keeps_only_the_groups_it_uses():
    p = port()
    assert p.mac == "52:54:00:ab:cd:01"
    assert p.own_group_ids() == (WEB, DB)
    assert p.referenced_group_ids() == (APP,)
    assert p.group_ids() == {WEB, DB, APP}
    assert p.members == {
        WEB: ("10.0.0.5", "10.0.0.6"),
        DB: ("10.0.0.5",),
        APP: ("10.0.0.7", "10.0.0.9"),
    }
    assert p.groups[1].rules[0] == Rule("tcp", 3306, 3306, group_id=APP)


def test_the_same_port_twice_is_equal():
    assert port() == port()
    assert port() != port(ip="10.0.0.6")


@pytest.mark.parametrize(
    "field, value",
    [
        ("instance_id", "i-BAD"),
        ("instance_id", "sg-3k9x2m0q"),
        ("device", "tap;rm -rf /"),
        ("device", "tap+"),
        ("device", "a" * 16),
        ("device", ""),
        ("device", None),
        ("mac", "52:54:00:ab:cd"),
        ("mac", "01:00:5e:00:00:01"),
        ("mac", "52-54-00-ab-cd-01"),
        ("ip", "10.0.0.256"),
        ("ip", "0.0.0.0"),
        ("ip", "224.0.0.1"),
        ("ip", "fe80::1"),
        ("ip", None),
        ("security_groups", [{"id": "sg-nope", "rules": []}]),
        ("security_groups", ["sg-3k9x2m0q"]),
        ("security_groups", [{"id": WEB, "rules": [{"protocol": "gre"}]}]),
        ("group_members", {WEB: ["10.0.0.5; x"]}),
        ("group_members", {WEB: "10.0.0.5"}),
        ("group_members", [WEB]),
    ],
)
def test_every_field_is_checked(field, value):
    with pytest.raises(InvalidPort):
        Port.from_dict(port_dict(**{field: value}))


def test_a_bad_rule_names_its_group():
    bad = [
        {
            "id": WEB,
            "rules": [
                {
                    "protocol": "tcp",
                    "from_port": 0,
                    "to_port": 1,
                    "cidr": "0.0.0.0/0",
                }
            ],
        }
    ]
    with pytest.raises(InvalidPort, match=f"{WEB}: rule 1, from_port: port 0"):
        Port.from_dict(port_dict(security_groups=bad))


def test_allowance_and_admits():
    p = port()
    allowed = p.allowance(p.members)
    assert ("peer", "10.0.0.6") in allowed
    assert ("rule", "tcp", 3306, 3306, "10.0.0.7/32") in allowed

    def ok(proto, src, **kw):
        return admits(allowed, proto, src, **kw)

    assert ok("tcp", "10.0.0.6", dport=9999)  # same group
    assert ok("tcp", "1.2.3.4", dport=22)
    assert not ok("tcp", "1.2.3.4", dport=23)
    assert ok("tcp", "10.200.0.1", dport=8042)
    assert not ok("tcp", "11.0.0.1", dport=8042)
    assert ok("tcp", "10.0.0.9", dport=3306)  # member of APP
    assert not ok("tcp", "10.0.0.10", dport=3306)
    assert ok("udp", "10.1.2.3", dport=53) and not ok(
        "udp", "10.2.0.1", dport=53
    )
    assert ok("udp", "172.16.0.1", sport=67, dport=68)  # DHCP answers
    assert ok("icmp", "1.2.3.4", icmp_type=0, icmp_code=0)
    assert not ok("gre", "1.2.3.4")


def test_allowance_grows_and_shrinks_with_rules_and_members():
    p = port()
    before = p.allowance(p.members)
    assert before <= p.allowance(
        {**p.members, APP: ("10.0.0.7", "10.0.0.9", "10.0.0.10")}
    )
    assert not before <= p.allowance({**p.members, APP: ("10.0.0.7",)})
    fewer = port_dict()
    fewer["security_groups"][0]["rules"].pop(0)
    assert not before <= Port.from_dict(fewer).allowance(p.members)


def test_a_batch_checks_a_shared_group_once_and_still_refuses_bad_ones():
    cache: dict = {}
    a = Port.from_dict(port_dict(), cache)
    b = Port.from_dict(port_dict(instance_id="i-bbbbbbbb"), cache)
    assert a.groups[0] is b.groups[0]  # parsed once
    assert a.members == b.members
    bad = port_dict(instance_id="i-cccccccc")
    bad["security_groups"][0]["rules"].append({"protocol": "gre"})
    with pytest.raises(InvalidPort):
        Port.from_dict(bad, cache)
    bad = port_dict(instance_id="i-cccccccc")
    bad["group_members"][bad["security_groups"][0]["id"]] = ["300.0.0.1"]
    with pytest.raises(InvalidPort):
        Port.from_dict(bad, cache)
    odd = port_dict(instance_id="i-cccccccc")
    odd["group_members"][odd["security_groups"][0]["id"]] = [object()]
    with pytest.raises(InvalidPort):  # not JSON: checked without the cache
        Port.from_dict(odd, cache)
