import pytest

from arame.common import exceptions, states

I = states.INSTANCE
LIVE = [s for s in I.states if s != "terminated"]


@pytest.mark.parametrize(
    "src,dst",
    [
        ("pending", "scheduling"),
        ("scheduling", "starting"),
        ("starting", "running"),
        ("running", "stopping"),
        ("stopping", "stopped"),
        ("stopped", "starting"),
        ("running", "rebooting"),
        ("rebooting", "running"),
        ("running", "stopped"),
        ("shuttingdown", "terminated"),
    ],
)
def test_instance_lifecycle_transitions_are_legal(src, dst):
    assert I.is_legal(src, dst)
    I.check(src, dst)  # does not raise


@pytest.mark.parametrize(
    "src,dst",
    [
        ("pending", "running"),  # must be scheduled and started first
        ("pending", "starting"),
        ("scheduling", "running"),
        ("stopped", "rebooting"),
        ("running", "terminated"),  # only through shuttingdown
        ("error", "running"),
        ("stopped", "stopping"),
    ],
)
def test_instance_shortcuts_are_illegal(src, dst):
    assert not I.is_legal(src, dst)


@pytest.mark.parametrize("src", LIVE)
def test_every_live_instance_may_shut_down(src):
    assert I.is_legal(src, "shuttingdown")


@pytest.mark.parametrize("src", LIVE)
def test_every_live_instance_may_go_to_error(src):
    assert I.is_legal(src, "error")


def test_terminated_is_final():
    assert "terminated" in I.final
    assert I.targets("terminated") == frozenset()
    for dst in I.states:
        assert not I.is_legal("terminated", dst)


def test_sources_of_shuttingdown_is_every_state_but_terminated():
    assert set(I.sources("shuttingdown")) == set(LIVE)


def test_sources_of_running():
    assert set(I.sources("running")) == {
        "starting",
        "stopping",
        "rebooting",
        "stopped",
        "evacuating",
    }


def test_sources_of_the_initial_state_is_empty():
    assert I.initial == "pending"
    assert I.sources("pending") == ()


def test_check_raises_invalid_transition_naming_both_states():
    with pytest.raises(exceptions.InvalidTransition) as exc:
        I.check("pending", "running")
    assert exc.value.details == {"src": "pending", "dst": "running"}
    assert "pending" in exc.value.message and "running" in exc.value.message
    assert exc.value.status == 409


def test_unknown_state_is_never_legal():
    assert not I.is_legal("bogus", "running")
    with pytest.raises(exceptions.InvalidTransition):
        I.check("bogus", "error")


def test_task_machine_done_and_failed_are_final():
    t = states.TASK
    assert t.is_legal("queued", "running")
    assert t.is_legal("running", "done")
    assert t.is_legal("queued", "failed")
    assert t.is_legal("running", "failed")
    assert not t.is_legal("queued", "done")
    assert not t.is_legal("done", "failed")
    assert not t.is_legal("failed", "running")


def test_busy_states_are_transitional():
    # An action may not start on a busy instance; none of these is a
    # resting state a user would act on.
    assert not (
        {"running", "stopped", "error", "terminated"} & states.INSTANCE_BUSY
    )
    assert states.INSTANCE_BUSY <= set(I.states)


@pytest.mark.parametrize(
    "machine",
    [states.INSTANCE, states.TASK, states.VOLUME, states.IMAGE, states.NODE],
)
def test_every_machine_reaches_each_state_from_its_initial_one(machine):
    seen, todo = {machine.initial}, [machine.initial]
    while todo:
        for nxt in machine.targets(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(machine.states)
