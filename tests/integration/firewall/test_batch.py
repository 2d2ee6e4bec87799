"""A group's rule changed on a host with several members: hva applies
them all as one batch (apply_ports, what refresh_host_ports does): the
group's chain is rewritten once. The new rule is live on every member at
once, the old one's flows are cut on each of them, and a member's other
group is left alone."""

from tests.helpers.waiting import wait_until

from .hostlab import tcp
from .streams import Stream, echo_server
from .test_secgroup_packets import can_tcp

SG_WEB, SG_ADM = "sg-batchweb", "sg-batchadm"


def test_a_rule_change_on_every_member_in_one_batch(net, procs, listen):
    a, b, c = (net.guests[k] for k in "abc")
    for g in (a, b):
        echo_server(procs, g.ns, 80)
        listen(g, 8080)
    before = {SG_WEB: [tcp(80)], SG_ADM: [tcp(22)]}
    net.fw.apply_ports([net.port(k, before) for k in "ab"])
    assert can_tcp(c.ns, a.ip, 80) and can_tcp(c.ns, b.ip, 80)
    assert not can_tcp(c.ns, a.ip, 8080)
    streams = [Stream(procs, c.ns, g.ip, 80) for g in (a, b)]
    wait_until(
        lambda: all(s.count >= 3 for s in streams), 10, "c's streams to :80"
    )

    # WEB's rule 80 becomes 8080: both members at once.
    after = {SG_WEB: [tcp(8080)], SG_ADM: [tcp(22)]}
    net.fw.apply_ports([net.port(k, after) for k in "ab"])
    for g in (a, b):
        assert can_tcp(c.ns, g.ip, 8080)
        assert not can_tcp(c.ns, g.ip, 80)
    wait_until(
        lambda: all(s.cut for s in streams), 10, "both :80 flows to be cut"
    )
    saved = net.save()
    # Each group's rules once, in its chain; both members jump there.
    assert saved.count("--dport 8080") == 1
    assert "--dport 80 " not in saved
    assert saved.count("--dport 22") == 1
    for gid in (SG_WEB, SG_ADM):
        assert saved.count(f"-j arame-{gid}") == 2
