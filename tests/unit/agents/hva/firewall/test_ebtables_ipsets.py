from arame.agents.hva.firewall import ebtables, ipsets

from .samples import port


def test_layer2_text():
    text = ebtables.render(
        {"i-3k9x2m0q": "tap-i-3k9x2m0q"},
        [port()],
        ["i-gonegone"],
        forward_jump=False,
    )
    assert text == (
        "*filter\n"
        ":arame-l2 RETURN\n"
        ":arame-l2-i-3k9x2m0q RETURN\n"
        ":arame-l2-i-gonegone RETURN\n"
        "-A arame-l2 -i tap-i-3k9x2m0q -j arame-l2-i-3k9x2m0q\n"
        "-A arame-l2 -p IPv6 -o tap-i-3k9x2m0q -j DROP\n"
        "-A arame-l2-i-3k9x2m0q -s ! 52:54:00:ab:cd:01 -j DROP\n"
        "-A arame-l2-i-3k9x2m0q -p ARP --arp-mac-src ! 52:54:00:ab:cd:01 -j DROP\n"
        "-A arame-l2-i-3k9x2m0q -p ARP --arp-ip-src 10.0.0.5 -j RETURN\n"
        "-A arame-l2-i-3k9x2m0q -p ARP --arp-ip-src 0.0.0.0 -j RETURN\n"
        "-A arame-l2-i-3k9x2m0q -p ARP -j DROP\n"
        "-A arame-l2-i-3k9x2m0q -p IPv6 -j DROP\n"
        "-X arame-l2-i-gonegone\n"
        "-I FORWARD 1 -j arame-l2\n"
        "COMMIT\n"
    )


def test_layer2_parse_save():
    text = (
        "*filter\n:INPUT ACCEPT\n:arame-l2 RETURN\n"
        ":arame-l2-i-3k9x2m0q RETURN\n-A INPUT -j arame-l2\nCOMMIT\n"
    )
    assert ebtables.parse_save(text) == {
        "ports": {"i-3k9x2m0q"},
        "forward_jump": False,
        "input_jump": True,
    }


def test_members_replace_a_set_atomically():
    assert ipsets.render(
        {
            "sg-bbbbbbbb": ("10.0.0.5", "10.0.0.6"),
            "sg-aaaaaaaa": None,
            "sg-cccccccc": (),
        }
    ) == (
        "create arame-sg-aaaaaaaa hash:ip family inet\n"
        "create arame-sg-bbbbbbbb hash:ip family inet\n"
        "create arame-tmp-sg-bbbbbbbb hash:ip family inet\n"
        "flush arame-tmp-sg-bbbbbbbb\n"
        "add arame-tmp-sg-bbbbbbbb 10.0.0.5\n"
        "add arame-tmp-sg-bbbbbbbb 10.0.0.6\n"
        "swap arame-tmp-sg-bbbbbbbb arame-sg-bbbbbbbb\n"
        "destroy arame-tmp-sg-bbbbbbbb\n"
        "create arame-sg-cccccccc hash:ip family inet\n"
        "create arame-tmp-sg-cccccccc hash:ip family inet\n"
        "flush arame-tmp-sg-cccccccc\n"
        "swap arame-tmp-sg-cccccccc arame-sg-cccccccc\n"
        "destroy arame-tmp-sg-cccccccc\n"
    )


def test_set_names_fit_ipset():
    assert len("arame-tmp-sg-3k9x2m0q") <= 31
    assert ipsets.set_name("sg-3k9x2m0q") == "arame-sg-3k9x2m0q"
