"""The bare-metal node's provision states as a table."""

import itertools

import pytest

from arame.common import exceptions, states

N = states.NODE

LIFECYCLE = [
    "enroll",
    "manageable",
    "available",
    "deploying",
    "active",
    "cleaning",
    "available",
]


def test_the_lifecycle_is_legal_step_by_step():
    for src, dst in itertools.pairwise(LIFECYCLE):
        N.check(src, dst)


@pytest.mark.parametrize("src", N.states)
def test_error_from_anywhere(src):
    assert N.is_legal(src, "error") or src == "error"


@pytest.mark.parametrize(
    "src,dst",
    [
        ("enroll", "available"),  # never offered unchecked
        ("enroll", "deploying"),
        ("manageable", "deploying"),
        ("active", "available"),  # never without cleaning
        ("error", "available"),
        ("cleaning", "active"),
    ],
)
def test_shortcuts_are_refused(src, dst):
    with pytest.raises(exceptions.InvalidTransition):
        N.check(src, dst)


def test_actions_follow_the_table():
    assert states.NODE_ACTIONS["manage"] == (
        ("enroll", "manageable", "error"),
        "manageable",
    )
    assert states.NODE_ACTIONS["provide"] == (("manageable",), "available")
    # A deploy undone before the BMC was touched goes straight back.
    assert N.is_legal("deploying", "available")
    # A retried delete of a node whose release failed cleans it.
    assert N.is_legal("error", "cleaning")


def test_busy_states_hold_an_instance():
    assert states.NODE_BUSY == {"deploying", "active", "cleaning"}
    assert "available" in N.targets("cleaning")
