"""The router's ruleset as text: one atomic file from the spec."""

import shutil
import subprocess

import pytest

from arame.agents.l3.drivers import base, nft_rules

from .specs import message


def rules(**changes) -> str:
    return nft_rules.render(base.parse_router(message(**changes)))


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def test_replaces_the_table_atomically():
    out = lines(rules())
    assert out[:3] == [
        "table ip arame_router",
        "delete table ip arame_router",
        "table ip arame_router {",
    ]
    assert out[-1] == "}"


def test_floating_maps_both_ways():
    out = lines(rules())
    assert (
        "elements = { 203.0.113.20 : 10.0.0.5, 203.0.113.21 : 10.0.1.5 }"
        in out
    )
    assert (
        "elements = { 10.0.0.5 : 203.0.113.20, 10.0.1.5 : 203.0.113.21 }"
        in out
    )
    assert "dnat to ip daddr map @fip_dnat" in out
    assert 'oifname "qg0" snat to ip saddr map @fip_snat' in out


def test_subnets_leave_on_the_router_address():
    out = lines(rules())
    assert (
        'oifname "qg0" ip saddr { 10.0.0.0/24, 10.0.1.0/24 } '
        "snat to 203.0.113.10" in out
    )


def test_hairpin_per_tenant_interface():
    out = lines(rules())
    for dev in ("riten00000", "riten00001"):
        assert (
            f'iifname "{dev}" oifname "{dev}" ct status dnat masquerade' in out
        )


def test_forward_policy():
    out = lines(rules())
    fwd = out[out.index("chain forward {") :]
    fwd = fwd[: fwd.index("}")]
    assert "type filter hook forward priority filter; policy drop;" in fwd
    assert fwd[2] == "ct state established,related accept"
    assert (
        'iifname "riten00000" ip saddr 10.0.0.0/24 oifname "qg0" accept' in fwd
    )
    assert (
        'iifname "riten00000" ip saddr 10.0.0.0/24 oifname '
        '{ "riten00000", "riten00001" } accept' in fwd
    )
    assert (
        'iifname "qg0" oifname { "riten00000", "riten00001" } '
        "ct status dnat accept" in fwd
    )
    # nothing else from outside reaches a tenant
    outside = [x for x in fwd if x.startswith('iifname "qg0"')]
    assert len(outside) == 1


def test_connection_cap():
    spec = base.parse_router(message())
    assert "ct state new ct count over 500 drop" in nft_rules.render(
        spec, max_connections=500
    )
    assert "ct count" not in nft_rules.render(spec, max_connections=None)


def test_no_floating_ips_empty_maps():
    out = lines(rules(floating_ips=[]))
    assert not [x for x in out if x.startswith("elements")]
    assert "type ipv4_addr : ipv4_addr" in out


def test_without_gateway_no_nat_out():
    text = rules(gateway=None, floating_ips=[])
    assert "qg0" not in text
    assert "snat to" not in text
    # the tenants still route to each other
    assert (
        'iifname "riten00000" ip saddr 10.0.0.0/24 oifname '
        '{ "riten00000", "riten00001" } accept' in text
    )


def test_gateway_without_interfaces():
    text = rules(interfaces=[], floating_ips=[])
    assert "ip saddr {" not in text  # no empty set
    assert 'oifname "qg0" snat to ip saddr map @fip_snat' in text


def test_deterministic():
    msg = message()
    msg["floating_ips"].reverse()
    assert nft_rules.render(base.parse_router(msg)) == rules()


@pytest.mark.skipif(shutil.which("nft") is None, reason="no nft here")
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"floating_ips": []},
        {"gateway": None, "floating_ips": []},
        {"interfaces": [], "floating_ips": []},
    ],
    ids=["full", "no-fip", "no-gateway", "no-interfaces"],
)
def test_nft_accepts_it(changes):
    """`nft -c` parses and checks the file without applying it."""
    res = subprocess.run(
        ["nft", "-c", "-f", "-"],
        input=rules(**changes),
        capture_output=True,
        text=True,
        check=False,
    )
    if "Operation not permitted" in res.stderr:
        pytest.skip("nft -c needs CAP_NET_ADMIN")
    assert res.returncode == 0, res.stderr


def test_digest_names_the_ruleset():
    a, b = rules(), rules(floating_ips=[])
    assert nft_rules.digest(a) and nft_rules.digest(b)
    assert nft_rules.digest(a) != nft_rules.digest(b)
    assert nft_rules.digest(a) == nft_rules.digest(rules())
    # read back from the rule's comment, as nft's JSON gives it
    assert nft_rules.digest(f"ruleset {nft_rules.digest(a)}") == (
        nft_rules.digest(a)
    )
    assert nft_rules.digest("something else") is None
    spec = base.parse_router(message())
    assert nft_rules.digest(
        nft_rules.render(spec, max_connections=5)
    ) != nft_rules.digest(nft_rules.render(spec))
