"""The BMC field checks the API and the bare-metal agent share."""

import subprocess
import sys

import pytest

from arame.common import bmc


def test_addresses_come_back_canonical_and_options_are_refused():
    assert bmc.bmc_address("2001:DB8::1") == "2001:db8::1"
    assert bmc.bmc_address("BMC-7.Rack1") == "bmc-7.rack1"
    with pytest.raises(bmc.InvalidNode):
        bmc.bmc_address("-oProxyCommand=x")


def test_a_refused_password_is_never_repeated():
    secret = "x" * 17
    assert bmc.bmc_password(secret, "lanplus") == secret
    with pytest.raises(bmc.InvalidNode) as e:
        bmc.bmc_password(secret, "lan")
    assert secret not in str(e.value) and "1-16" in str(e.value)


def test_the_api_checks_nodes_without_importing_the_agent():
    # Of the agents the API may import only their public client surface:
    # the proxy and the messages it types (messages.py).
    code = (
        "import sys, arame.api.services.baremetal, "
        "arame.api.services.catalog; "
        "print(sorted(m for m in sys.modules "
        "if m.startswith('arame.agents.') and m.count('.') > 2 "
        "and not m.endswith(('.rpcapi', '.messages'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert out.strip() == "[]"
