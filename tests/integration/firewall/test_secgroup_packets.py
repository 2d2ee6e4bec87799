"""Security groups with real packets across a Linux bridge.

Guests a, b, c are namespaces on taps of the host's bridge; the outsider is
on the bridge without a port. Each test applies ports and sends traffic.
"""

import subprocess
import time

import netlab
import pytest

from arame.agents.hva.firewall import Firewall
from tests.helpers.waiting import wait_until

from .hostlab import icmp, tcp
from .streams import Stream, echo_server

SG_WEB, SG_APP, SG_DB, SG_X = (
    "sg-fwtestwb",
    "sg-fwtestap",
    "sg-fwtestdb",
    "sg-fwtestxx",
)


def can_tcp(src_ns, ip, port):
    return netlab.can_connect_tcp(src_ns, ip, port, timeout=1)


def can_ping(src_ns, ip):
    return netlab.can_ping(src_ns, ip, timeout=1)


def test_allowed_port_passes_other_ports_dropped(net, listen):
    a, b = net.guests["a"], net.guests["b"]
    listen(a, 80)
    listen(a, 81)
    net.fw.apply_port(net.port("a", {SG_WEB: [tcp(80)]}, {SG_WEB: ["a"]}))
    assert can_tcp(b.ns, a.ip, 80)
    assert can_tcp(net.outsider, a.ip, 80)
    assert not can_tcp(b.ns, a.ip, 81)
    # Guests send whatever they like (their own replies, their own flows).
    listen(b, 82)
    assert can_tcp(a.ns, b.ip, 82)


def test_icmp_follows_its_rule(net):
    a, b, c = (net.guests[k] for k in "abc")
    echo_from_b = icmp(8, -1, b.ip + "/32")
    net.fw.apply_port(net.port("a", {SG_WEB: [echo_from_b]}, {SG_WEB: ["a"]}))
    assert can_ping(b.ns, a.ip)
    assert not can_ping(c.ns, a.ip)
    net.fw.apply_port(net.port("a", {SG_WEB: [icmp()]}, {SG_WEB: ["a"]}))
    assert can_ping(c.ns, a.ip) and can_ping(net.outsider, a.ip)
    # icmp type 0 (echo reply) only: an echo request is not let in.
    net.fw.apply_port(net.port("a", {SG_WEB: [icmp(0)]}, {SG_WEB: ["a"]}))
    assert not can_ping(c.ns, a.ip)


def test_cidr_rule_lets_its_network_in_not_the_outsider(net, listen):
    a, b = net.guests["a"], net.guests["b"]
    listen(a, 80)
    net.fw.apply_port(
        net.port("a", {SG_WEB: [tcp(80, "10.77.0.0/29")]}, {SG_WEB: ["a"]})
    )
    assert can_tcp(b.ns, a.ip, 80)
    assert not can_tcp(net.outsider, a.ip, 80)  # 10.77.0.100


def test_group_reference_lets_its_members_in(net, listen):
    a, b, c = (net.guests[k] for k in "abc")
    listen(a, 3306)
    listen(a, 22)
    members = {SG_DB: ["a"], SG_APP: ["b"], SG_X: ["c"]}
    net.fw.apply_port(net.port("a", {SG_DB: [tcp(3306, SG_APP)]}, members))
    net.fw.apply_port(net.port("b", {SG_APP: []}, members))
    net.fw.apply_port(net.port("c", {SG_X: []}, members))
    assert can_tcp(b.ns, a.ip, 3306)
    assert not can_tcp(c.ns, a.ip, 3306)
    assert not can_tcp(net.outsider, a.ip, 3306)
    assert not can_tcp(b.ns, a.ip, 22)  # only what the rule says


def test_members_of_a_group_reach_each_other(net, listen):
    a, b, c = (net.guests[k] for k in "abc")
    listen(a, 5432)
    members = {SG_X: ["a", "b"]}
    net.fw.apply_port(net.port("a", {SG_X: []}, members))
    net.fw.apply_port(net.port("b", {SG_X: []}, members))
    net.fw.apply_port(net.port("c", {SG_WEB: []}, {SG_WEB: ["c"]}))
    assert can_tcp(b.ns, a.ip, 5432) and can_ping(b.ns, a.ip)
    assert can_ping(a.ns, b.ip)
    assert not can_tcp(c.ns, a.ip, 5432) and not can_ping(c.ns, a.ip)


def test_a_guest_that_changes_its_address_or_mac_cannot_send(net, listen):
    a, b = net.guests["a"], net.guests["b"]
    listen(a, 80)
    net.fw.apply_port(net.port("a", {SG_WEB: [tcp(80)]}, {SG_WEB: ["a"]}))
    net.fw.apply_port(net.port("b", {SG_APP: []}, {SG_APP: ["b"]}))
    assert can_tcp(b.ns, a.ip, 80)
    spoofed = "10.77.0.50"
    netlab.run("ip", "addr", "flush", "dev", "eth0", netns=b.ns)
    netlab.run("ip", "addr", "add", spoofed + "/24", "dev", "eth0", netns=b.ns)
    # Static neighbours both ways, so that what stops b is the IP check
    # (iptables), not only its ARP being dropped (ebtables).
    netlab.run(
        "ip",
        "neigh",
        "replace",
        a.ip,
        "lladdr",
        a.mac,
        "dev",
        "eth0",
        netns=b.ns,
    )
    netlab.run(
        "ip",
        "neigh",
        "replace",
        spoofed,
        "lladdr",
        b.mac,
        "dev",
        "eth0",
        netns=a.ns,
    )
    try:
        assert not can_tcp(b.ns, a.ip, 80)
        assert not can_ping(b.ns, net.ip("c"))
    finally:
        netlab.run("ip", "addr", "flush", "dev", "eth0", netns=b.ns)
        netlab.run(
            "ip", "addr", "add", b.ip + "/24", "dev", "eth0", netns=b.ns
        )
    assert can_tcp(b.ns, a.ip, 80)

    netlab.run(
        "ip", "link", "set", "eth0", "address", "52:54:00:77:00:99", netns=b.ns
    )
    try:
        assert not can_tcp(b.ns, a.ip, 80)
    finally:
        netlab.run("ip", "link", "set", "eth0", "address", b.mac, netns=b.ns)
    assert can_tcp(b.ns, a.ip, 80)


def test_a_guest_cannot_answer_arp_for_another_address(net):
    a, b, c = (net.guests[k] for k in "abc")
    for key in "abc":
        net.fw.apply_port(net.port(key, {SG_X: []}, {SG_X: ["a", "b", "c"]}))
    assert can_ping(a.ns, c.ip)  # a knows c's MAC
    # b claims c's address with gratuitous ARP, which would move a's
    # entry for c to b's MAC: it is dropped on the bridge.
    netlab.run("ip", "addr", "add", c.ip + "/32", "dev", "eth0", netns=b.ns)
    try:
        netlab.run(
            "busybox",
            "arping",
            "-U",
            "-c",
            "3",
            "-w",
            "2",
            "-I",
            "eth0",
            "-s",
            c.ip,
            c.ip,
            netns=b.ns,
            check=False,
        )
        out = netlab.run("ip", "neigh", "show", c.ip, netns=a.ns).stdout
        assert c.mac in out and b.mac not in out, out
        assert can_ping(a.ns, c.ip)
    finally:
        netlab.run(
            "ip", "addr", "del", c.ip + "/32", "dev", "eth0", netns=b.ns
        )


def test_dhcp_works_and_no_guest_serves_it(net, procs, tmp_path):
    """A guest without an address gets one from a DHCP server beyond the
    bridge (the outsider); a guest running its own DHCP server is not
    heard."""
    a, c = net.guests["a"], net.guests["c"]
    for key in "ac":
        net.fw.apply_port(net.port(key, {SG_WEB: []}, {SG_WEB: []}))

    def dnsmasq(ns, name):
        return procs(
            ns,
            "dnsmasq",
            "--no-daemon",
            "--conf-file=/dev/null",
            "--port=0",
            "--interface=eth0",
            "--bind-interfaces",
            "--user=root",
            f"--pid-file={tmp_path}/{name}.pid",
            f"--dhcp-leasefile={tmp_path}/{name}.leases",
            "--dhcp-range=10.77.0.0,static,255.255.255.0,1h",
            f"--dhcp-host={a.mac},{a.ip}",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def lease() -> bool:
        return (
            netlab.run(
                "busybox",
                "udhcpc",
                "-i",
                "eth0",
                "-q",
                "-n",
                "-t",
                "3",
                "-T",
                "1",
                "-f",
                "-s",
                "/bin/true",
                netns=a.ns,
                check=False,
                timeout=20,
            ).returncode
            == 0
        )

    netlab.run("ip", "addr", "flush", "dev", "eth0", netns=a.ns)
    try:
        rogue = dnsmasq(c.ns, "rogue")
        assert not lease(), "a lease came from the guest's DHCP server"
        rogue.kill()
        rogue.wait(timeout=5)
        dnsmasq(net.outsider, "outsider")
        assert lease()
    finally:
        netlab.run(
            "ip",
            "addr",
            "add",
            a.ip + "/24",
            "dev",
            "eth0",
            netns=a.ns,
            check=False,
        )


def test_removing_a_rule_cuts_its_established_flows_only(net, procs, listen):
    a, b = net.guests["a"], net.guests["b"]
    echo_server(procs, a.ns, 5000)
    echo_server(procs, a.ns, 5001)
    both = [tcp(5000), tcp(5001)]
    net.fw.apply_port(net.port("a", {SG_WEB: both}, {SG_WEB: ["a"]}))
    s5000 = Stream(procs, b.ns, a.ip, 5000)
    s5001 = Stream(procs, b.ns, a.ip, 5001)
    wait_until(
        lambda: s5000.count >= 5 and s5001.count >= 5,
        10,
        "both streams flowing",
    )

    net.fw.apply_port(net.port("a", {SG_WEB: [tcp(5001)]}, {SG_WEB: ["a"]}))
    wait_until(lambda: s5000.cut, 10, "the stream on 5000 to be cut")
    after = s5001.count
    wait_until(
        lambda: s5001.count >= after + 10, 10, "the stream on 5001 to go on"
    )
    assert not s5001.cut
    assert not can_tcp(b.ns, a.ip, 5000)

    net.fw.apply_port(net.port("a", {SG_WEB: both}, {SG_WEB: ["a"]}))
    again = Stream(procs, b.ns, a.ip, 5000)
    wait_until(lambda: again.count >= 3, 10, "a new stream on 5000")


def test_a_cut_flow_does_not_come_back_from_the_guest_side(net, procs):
    """After the cut, the guest's server speaks first: conntrack's loose
    pickup would take its packet as opening a flow, and the peer's answers
    as replies, unless the guest's own chain refuses it."""
    a, b = net.guests["a"], net.guests["b"]
    echo_server(procs, a.ns, 5002, push=True)
    net.fw.apply_port(net.port("a", {SG_WEB: [tcp(5002)]}, {SG_WEB: ["a"]}))
    stream = Stream(procs, b.ns, a.ip, 5002, push=True)
    wait_until(lambda: stream.count >= 5, 10, "ticks from a")
    net.fw.apply_port(net.port("a", {SG_WEB: []}, {SG_WEB: ["a"]}))
    wait_until(lambda: stream.cut, 10, "the stream to be cut")


def test_group_membership_changes_live(net, procs):
    a, b, c = (net.guests[k] for k in "abc")
    echo_server(procs, a.ns, 3306)
    members = {SG_DB: ["a"], SG_APP: ["b"]}
    net.fw.apply_port(net.port("a", {SG_DB: [tcp(3306, SG_APP)]}, members))
    assert not can_tcp(c.ns, a.ip, 3306)
    saved = net.save()

    net.fw.set_group_members(SG_APP, [b.ip, c.ip])
    assert can_tcp(c.ns, a.ip, 3306)
    assert net.save() == saved, "a membership change touched the chains"
    stream = Stream(procs, c.ns, a.ip, 3306)
    wait_until(lambda: stream.count >= 3, 10, "c's stream flowing")

    net.fw.set_group_members(SG_APP, [b.ip])
    wait_until(lambda: stream.cut, 10, "c's stream to be cut")
    assert not can_tcp(c.ns, a.ip, 3306)
    assert can_tcp(b.ns, a.ip, 3306)


def test_reapplying_changes_nothing(net):
    port = net.port(
        "a",
        {SG_WEB: [tcp(80), icmp()], SG_X: [tcp(22, SG_APP)]},
        {SG_WEB: ["a"], SG_X: ["a", "b"], SG_APP: ["c"]},
    )
    net.fw.apply_port(port)
    first = (net.save(), sets(net), ebtables(net))
    net.fw.apply_port(port)
    assert (net.save(), sets(net), ebtables(net)) == first


def test_remove_port_leaves_nothing_behind(net):
    a, b = net.guests["a"], net.guests["b"]
    net.fw.apply_port(
        net.port(
            "a", {SG_DB: [tcp(3306, SG_APP)]}, {SG_DB: ["a"], SG_APP: ["b"]}
        )
    )
    net.fw.apply_port(net.port("b", {SG_APP: [tcp(80)]}, {SG_APP: ["b"]}))
    assert net.fw.ports() == {a.instance_id, b.instance_id}

    net.fw.remove_port(a.instance_id)
    net.fw.remove_port(a.instance_id)  # idempotent
    assert net.fw.ports() == {b.instance_id}
    for text in (net.save(), ebtables(net)):
        assert a.instance_id not in text and a.tap not in text
    assert sets(net) == {"arame-" + SG_APP}  # b still uses it

    net.fw.remove_port(b.instance_id)
    assert net.fw.ports() == set() and sets(net) == set()
    ours = [line for line in net.save().splitlines() if "arame" in line]
    assert ours == [  # only the base chains
        ":arame-fwd -",
        ":arame-in -",
        ":arame-out -",
        "-A INPUT -m physdev --physdev-is-in -j arame-out",
        "-A FORWARD -m physdev --physdev-is-bridged -j arame-fwd",
        "-A arame-fwd -j arame-out",
        "-A arame-fwd -j arame-in",
    ]


def test_a_restarted_agent_takes_over(net, listen):
    a, b = net.guests["a"], net.guests["b"]
    listen(a, 80)
    net.fw.apply_port(net.port("a", {SG_WEB: [tcp(80)]}, {SG_WEB: ["a"]}))
    fresh = Firewall(netns=net.ns)
    fresh.setup()
    fresh.setup()  # idempotent
    assert fresh.ports() == {a.instance_id}
    assert can_tcp(b.ns, a.ip, 80)
    fresh.apply_port(net.port("a", {SG_WEB: []}, {SG_WEB: ["a"]}))
    assert not can_tcp(b.ns, a.ip, 80)
    fresh.remove_port(a.instance_id)
    assert fresh.ports() == set() and sets(net) == set()
    net.fw.setup()  # the fixture's object forgets what it applied


def test_a_port_with_100_rules(net, listen, record_property):
    a, b = net.guests["a"], net.guests["b"]
    listen(a, 1099)
    rules = [tcp(p) for p in range(1000, 1100)]
    port = net.port("a", {SG_WEB: rules}, {SG_WEB: ["a"]})
    t0 = time.monotonic()
    net.fw.apply_port(port)
    first = time.monotonic() - t0
    # One rule changed: the group's chain is rewritten, nothing else.
    changed = net.port("a", {SG_WEB: [tcp(999)] + rules[1:]}, {SG_WEB: ["a"]})
    t0 = time.monotonic()
    net.fw.apply_port(changed)
    again = time.monotonic() - t0
    restore = net.fw.last_restore_s
    record_property("iptables_restore_s", restore)
    print(
        f"100 rules: first apply {first * 1000:.1f} ms, one rule changed "
        f"{again * 1000:.1f} ms, of which iptables-restore "
        f"{restore * 1000:.1f} ms"
    )
    assert net.save().count(f"-A arame-{SG_WEB} -p tcp") == 100
    assert can_tcp(b.ns, a.ip, 1099) and not can_tcp(b.ns, a.ip, 1100)
    assert restore < 1.0


def sets(net) -> set[str]:
    out = netlab.run("ipset", "list", "-n", netns=net.ns).stdout
    return {n for n in out.split() if n.startswith("arame-")}


def ebtables(net) -> str:
    out = netlab.run("ebtables-save", netns=net.ns).stdout
    return "\n".join(
        line for line in out.splitlines() if not line.startswith("#")
    )


@pytest.fixture(autouse=True)
def _no_leftover_flows_between_tests(host):
    yield
    netlab.run("conntrack", "-F", netns=host.ns, check=False)
