"""The command line and host lines given to dnsmasq."""

from arame.agents.nsa import records
from arame.agents.nsa.drivers import dnsmasq_config as config

from ..conftest import NETWORK_MSG, res


def test_host_lines(network):
    r = res(1)
    assert config.dhcp_line(r) == "52:54:00:00:00:01,10.20.0.11,host1\n"
    assert config.hosts_line(network, r) == (
        "10.20.0.11 host1.tenant.test host1\n"
    )
    assert config.host_file_name(r.mac) == "52-54-00-00-00-01"


def test_reverse_zone():
    def zone(cidr):
        return config.reverse_zone(
            records.parse_network(
                dict(
                    NETWORK_MSG,
                    cidr=cidr,
                    dhcp_ranges=[],
                    gateway=cidr.split("/")[0][:-1] + "1",
                )
            )
        )

    assert zone("10.20.0.0/24") == "0.20.10.in-addr.arpa"
    assert zone("10.20.0.0/25") == "0.20.10.in-addr.arpa"
    assert zone("10.20.0.0/20") == "20.10.in-addr.arpa"
    assert zone("10.0.0.0/8") == "10.in-addr.arpa"


def test_argv(network):
    paths = config.Paths("/state/nw-abcd1234")
    args = config.argv(
        network,
        paths,
        lease_time=600,
        forwarders=["192.0.2.53"],
        log_dhcp=True,
    )
    assert args[0] == "dnsmasq"
    for a in (
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--bind-interfaces",
        "--interface=br-abcd1234",
        "--except-interface=lo",
        "--dhcp-range=set:nw-abcd1234,10.20.0.10,static,255.255.255.0,600",
        "--dhcp-hostsdir=/state/nw-abcd1234/dhcp-hosts.d",
        "--dhcp-hostsfile=/state/nw-abcd1234/dhcp-hosts",
        "--hostsdir=/state/nw-abcd1234/hosts.d",
        "--addn-hosts=/state/nw-abcd1234/hosts",
        "--domain=tenant.test",
        "--local=/tenant.test/",
        "--local=/0.20.10.in-addr.arpa/",
        "--dhcp-option=tag:nw-abcd1234,option:mtu,1450",
        "--dhcp-option=tag:nw-abcd1234,option:router,10.20.0.1",
        "--dhcp-option=tag:nw-abcd1234,option:dns-server,10.20.0.1",
        "--no-resolv",
        "--no-hosts",
        "--dhcp-authoritative",
        "--dhcp-leasefile=/state/nw-abcd1234/leases",
        "--pid-file=/state/nw-abcd1234/dnsmasq.pid",
        "--dhcp-lease-max=256",
        "--server=192.0.2.53",
        "--log-dhcp",
    ):
        assert a in args, a
    assert not any(a.startswith("--user") for a in args)


def test_argv_without_gateway_mtu_or_ranges():
    net = records.parse_network(
        dict(
            NETWORK_MSG,
            gateway=None,
            mtu=None,
            dhcp_ranges=[],
            dhcp_address="10.20.0.2",
        )
    )
    args = config.argv(net, config.Paths("/s"), user="dnsmasq")
    assert not any("option:router" in a or "option:mtu" in a for a in args)
    assert (
        "--dhcp-range=set:nw-abcd1234,10.20.0.0,static,255.255.255.0,86400"
        in args
    )
    assert "--dhcp-option=tag:nw-abcd1234,option:dns-server,10.20.0.2" in args
    assert "--user=dnsmasq" in args
    assert "--quiet-dhcp" in args and "--log-dhcp" not in args
