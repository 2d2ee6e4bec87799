"""Removals within one window share one reload per network."""

from arame.agents.nsa.coalesce import Coalescer


def test_marks_within_a_window_give_one_action_per_key(fake_timer):
    done = []
    c = Coalescer(0.02, done.append, timer=fake_timer)
    for key in ("nw-a", "nw-b", "nw-a", "nw-a"):
        c.mark(key)
    assert len(fake_timer.made) == 1 and fake_timer.made[0].delay == 0.02
    assert done == []  # nothing before the window closes
    fake_timer.made[0].fire()
    assert done == ["nw-a", "nw-b"]
    c.mark("nw-a")  # a new window
    assert len(fake_timer.made) == 2
    fake_timer.made[1].fire()
    assert done == ["nw-a", "nw-b", "nw-a"]


def test_discard_and_flush(fake_timer):
    done = []
    c = Coalescer(0.02, done.append, timer=fake_timer)
    c.mark("nw-a")
    c.mark("nw-b")
    c.discard("nw-a")
    c.flush()
    assert done == ["nw-b"] and fake_timer.made[0].cancelled
    fake_timer.made[0].fire()  # cancelled: nothing more
    assert done == ["nw-b"]


def test_a_failing_action_does_not_stop_the_others(fake_timer):
    done = []

    def action(key):
        if key == "bad":
            raise RuntimeError("boom")
        done.append(key)

    c = Coalescer(0.02, action, timer=fake_timer)
    c.mark("bad")
    c.mark("good")
    fake_timer.made[0].fire()
    assert done == ["good"]


def test_stop_flushes_and_refuses_more(fake_timer):
    done = []
    c = Coalescer(0.02, done.append, timer=fake_timer)
    c.mark("nw-a")
    c.stop()
    c.mark("nw-b")
    assert done == ["nw-a"] and c.pending() == []


def test_real_timer_fires_once_after_the_window(wait_for):
    done = []
    c = Coalescer(0.01, done.append)
    c.mark("nw-a")
    c.mark("nw-a")
    wait_for(lambda: done == ["nw-a"], timeout=5)
