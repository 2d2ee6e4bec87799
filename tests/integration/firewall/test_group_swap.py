"""An instance's security groups replaced while it runs (PUT /v1/instances/
{id}/security_groups), as hva applies it with real packets: the flow's
`apply` re-renders the port with its new groups (refresh_ports), its
`members` step replaces the sets of the groups it left and joined
(update_group_members). Traffic the new group allows passes at once; the
old group's rule, its flows and its set are gone."""

from tests.helpers.waiting import wait_until

from .hostlab import tcp
from .streams import Stream, echo_server
from .test_secgroup_packets import can_tcp, sets

SG_OLD, SG_NEW, SG_APP = "sg-swapold0", "sg-swapnew0", "sg-swapapp0"


def test_new_groups_replace_the_old_live(net, procs, listen):
    a, b, c = (net.guests[k] for k in "abc")
    echo_server(procs, a.ns, 80)
    listen(a, 8080)
    # Before: a in OLD (web from anywhere), b in APP.
    net.fw.apply_port(net.port("a", {SG_OLD: [tcp(80)]}, {SG_OLD: ["a"]}))
    net.fw.apply_port(net.port("b", {SG_APP: []}, {SG_APP: ["b"]}))
    assert can_tcp(c.ns, a.ip, 80) and can_tcp(net.outsider, a.ip, 80)
    assert not can_tcp(b.ns, a.ip, 8080)
    stream = Stream(procs, c.ns, a.ip, 80)
    wait_until(lambda: stream.count >= 3, 10, "c's stream to a:80")

    # a's groups become NEW only: 8080 from APP's members.
    net.fw.apply_port(
        net.port(
            "a",
            {SG_NEW: [tcp(8080, SG_APP)]},
            {SG_NEW: ["a"], SG_APP: ["b"]},
        )
    )
    assert can_tcp(b.ns, a.ip, 8080)
    assert not can_tcp(c.ns, a.ip, 8080)
    assert not can_tcp(c.ns, a.ip, 80) and not can_tcp(b.ns, a.ip, 80)
    wait_until(lambda: stream.cut, 10, "the old rule's flow to be cut")
    assert f"arame-{SG_OLD}" not in sets(net)
    assert SG_OLD not in net.save()

    # The members step on a's host: c joins APP, then b leaves it.
    net.fw.set_group_members(SG_APP, [b.ip, c.ip])
    assert can_tcp(c.ns, a.ip, 8080)
    net.fw.set_group_members(SG_APP, [c.ip])
    assert not can_tcp(b.ns, a.ip, 8080)
    assert can_tcp(c.ns, a.ip, 8080)
