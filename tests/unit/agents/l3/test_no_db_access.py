"""The L3 agent holds no DB credentials either: its daemon, manager and
drivers load neither SQLAlchemy nor Arame's DB layer (what it needs from
the records comes from the collector). Fresh interpreter per module, as
tests/unit/agents/test_no_db_access.py does for the other agents."""

import pytest

from tests.unit.agents.test_no_db_access import (
    test_an_agent_imports_no_db_layer as check,
)


@pytest.mark.parametrize(
    "module",
    [
        "arame.agents.l3.service",
        "arame.agents.l3.manager",
        "arame.agents.l3.drivers.netns",
    ],
)
def test_the_l3_agent_imports_no_db_layer(module):
    check(module)
