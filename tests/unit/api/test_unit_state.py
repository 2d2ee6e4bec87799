"""A unit's and a group's state as a user reads them, from their nodes."""

import pytest

from arame.api.services.unit_state import group_state, unit_state


@pytest.mark.parametrize(
    "status,nodes,expected",
    [
        ("active", [], "running"),
        ("active", ["running", "running"], "running"),
        ("active", ["running", "pending"], "booting"),
        ("active", ["running", "starting", "error"], "error"),
        ("active", ["stopped", "stopped"], "power_off"),
        ("active", ["stopped", "running"], "running"),
        ("active", ["stopping", "stopped"], "booting"),
        # Nodes on their way out do not count; all of them going does.
        ("active", ["running", "shuttingdown"], "running"),
        ("active", ["shuttingdown", "terminated"], "deleting"),
        ("deleting", ["running"], "deleting"),
    ],
)
def test_unit_state(status, nodes, expected):
    assert unit_state(status, nodes) == expected


@pytest.mark.parametrize(
    "status,units,expected",
    [
        ("active", [], "running"),
        ("active", ["running", "booting"], "booting"),
        ("active", ["booting", "error"], "error"),
        ("active", ["power_off", "power_off"], "power_off"),
        ("active", ["power_off", "running"], "running"),
        ("active", ["deleting", "running"], "deleting"),
        ("deleting", ["error"], "deleting"),
    ],
)
def test_group_state(status, units, expected):
    assert group_state(status, units) == expected
