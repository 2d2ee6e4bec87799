"""The one wait of the code: a true answer returns at once, the deadline
is kept exactly, and a timeout names what was awaited."""

import pytest

from arame.common.waiting import WaitTimeout, wait_for
from tests.helpers.clocks import FakeClock


def test_returns_the_first_true_answer_without_sleeping_after_it():
    clock = FakeClock()
    answers = iter([None, [], ["vol-1"]])
    assert wait_for(
        lambda: next(answers),
        5,
        "the export",
        interval=0.5,
        clock=clock.monotonic,
        sleep=clock.sleep,
    ) == ["vol-1"]
    assert clock.slept == [0.5, 0.5]


def test_times_out_at_the_deadline_naming_what_was_awaited():
    clock = FakeClock()
    asked = []

    def never():
        asked.append(clock.now)
        return "building"

    with pytest.raises(WaitTimeout) as e:
        wait_for(
            lambda: never() == "done" and "done",
            1.0,
            "task t-1",
            interval=0.3,
            clock=clock.monotonic,
            sleep=clock.sleep,
        )
    # Asked at 0, .3, .6, .9 and once more exactly at the deadline.
    assert asked == pytest.approx([0.0, 0.3, 0.6, 0.9, 1.0])
    assert str(e.value) == "timed out after 1 s waiting for task t-1"
    assert isinstance(e.value, TimeoutError)


def test_an_informative_last_answer_is_in_the_message():
    clock = FakeClock()
    with pytest.raises(WaitTimeout, match=r"last answer: \[\]") as e:
        wait_for(list, 1, "hosts", clock=clock.monotonic, sleep=clock.sleep)
    assert e.value.last == [] and e.value.what == "hosts"


def test_ignored_errors_are_not_yet_and_others_end_the_wait():
    clock = FakeClock()
    answers = iter([ConnectionRefusedError(), ConnectionRefusedError(), 42])

    def connect():
        a = next(answers)
        if isinstance(a, Exception):
            raise a
        return a

    assert (
        wait_for(
            connect,
            5,
            "the port",
            ignore=(OSError,),
            clock=clock.monotonic,
            sleep=clock.sleep,
        )
        == 42
    )

    def broken():
        raise ValueError("bad answer")

    with pytest.raises(ValueError):
        wait_for(
            broken,
            5,
            "x",
            ignore=(OSError,),
            clock=clock.monotonic,
            sleep=clock.sleep,
        )


def test_an_ignored_error_at_the_deadline_is_the_cause():
    clock = FakeClock()

    def refused():
        raise ConnectionRefusedError("refused")

    with pytest.raises(WaitTimeout) as e:
        wait_for(
            refused,
            1,
            "the API",
            ignore=(OSError,),
            clock=clock.monotonic,
            sleep=clock.sleep,
        )
    assert isinstance(e.value.__cause__, ConnectionRefusedError)
    assert e.value.last is None


def test_a_wake_up_sleep_cuts_the_interval_short():
    """The sleep may be an event's wait: what it is given is the most it
    may take, never past the deadline."""
    clock = FakeClock()
    asked = []

    def wake(seconds):
        asked.append(seconds)
        clock.advance(0.01)  # woken by a notification at once

    answers = iter([False, False, True])
    assert (
        wait_for(
            lambda: next(answers),
            0.25,
            "removal",
            interval=0.5,
            clock=clock.monotonic,
            sleep=wake,
        )
        is True
    )
    assert asked == pytest.approx([0.25, 0.24])
