"""One chain per security group, with real packets: two guests in one
group share its chain, so a rule change given for one of them is live for
both at once (and cuts both's flows it no longer allows); the chain goes
with the group's last member on the host. And an hva killed in the middle
of a change: the restarted agent, asked again, converges."""

import pytest

from arame.agents.hva.firewall import Firewall
from arame.common import runner
from tests.helpers.waiting import wait_until

from .hostlab import tcp
from .streams import Stream, echo_server
from .test_secgroup_packets import can_tcp, sets

SG, SG_OLD = "sg-sharedch", "sg-stalech0"


def test_a_rule_change_of_one_chain_reaches_both_members(net, procs, listen):
    a, b, c = (net.guests[k] for k in "abc")
    for g in (a, b):
        echo_server(procs, g.ns, 80)
        listen(g, 8080)
    for key in "ab":
        net.fw.apply_port(net.port(key, {SG: [tcp(80)]}, {SG: ["a", "b"]}))
    saved = net.save()
    assert saved.count(f":arame-{SG} ") == 1
    assert saved.count(f"-j arame-{SG}") == 2
    assert saved.count("--dport 80 ") == 1
    streams = [Stream(procs, c.ns, g.ip, 80) for g in (a, b)]
    wait_until(
        lambda: all(s.count >= 3 for s in streams), 10, "c's streams to :80"
    )

    # The group's rule 80 becomes 8080, given with a only: b has it too.
    net.fw.apply_port(net.port("a", {SG: [tcp(8080)]}, {SG: ["a", "b"]}))
    for g in (a, b):
        assert can_tcp(c.ns, g.ip, 8080)
        assert not can_tcp(c.ns, g.ip, 80)
    wait_until(
        lambda: all(s.cut for s in streams), 10, "both :80 flows to be cut"
    )
    assert can_tcp(a.ns, b.ip, 80)  # members reach each other
    saved = net.save()
    assert saved.count("--dport 8080 ") == 1 and "--dport 80 " not in saved

    net.fw.remove_port(a.instance_id)
    assert f":arame-{SG} " in net.save()  # b still jumps there
    assert can_tcp(c.ns, b.ip, 8080)
    net.fw.remove_port(b.instance_id)
    assert f"arame-{SG}" not in net.save() and sets(net) == set()


class Killed(BaseException):
    """The agent's process ends here."""


def test_killed_mid_change_a_restarted_agent_converges(
    net, procs, monkeypatch
):
    a, b = net.guests["a"], net.guests["b"]
    echo_server(procs, a.ns, 5000)
    before = {SG: [tcp(5000)], SG_OLD: []}
    net.fw.apply_port(net.port("a", before, {SG: ["a"], SG_OLD: ["a"]}))
    stream = Stream(procs, b.ns, a.ip, 5000)
    wait_until(lambda: stream.count >= 3, 10, "b's stream to a:5000")

    # The change (5000 closed, a leaves OLD) dies after its iptables
    # transaction, before the flows are cut: the stream goes on.
    real = runner.run

    def dies_at_conntrack(args, **kw):
        if args[0] == "conntrack":
            raise Killed(args)
        return real(args, **kw)

    after = net.port("a", {SG: []}, {SG: ["a"]})
    monkeypatch.setattr(runner, "run", dies_at_conntrack)
    with pytest.raises(Killed):
        net.fw.apply_port(after)
    monkeypatch.setattr(runner, "run", real)
    n = stream.count
    wait_until(lambda: stream.count >= n + 3, 10, "the stream to go on")
    assert not can_tcp(b.ns, a.ip, 5000)  # new flows: the new rules

    # The dead agent's transaction removed OLD's chain; its set, which
    # it would have destroyed last, is left: the restart removes it.
    assert f"arame-{SG_OLD}" not in net.save()
    assert f"arame-{SG_OLD}" in sets(net)
    fresh = Firewall(netns=net.ns)  # the restarted agent
    fresh.setup()
    assert sets(net) == {f"arame-{SG}"}
    fresh.apply_port(after)  # the flow's retry
    wait_until(lambda: stream.cut, 10, "the stream to be cut")
    first = net.save()
    fresh.apply_port(after)
    assert net.save() == first
    fresh.remove_port(a.instance_id)
    net.fw.setup()  # the fixture's object forgets what it applied
