"""A clock that moves only when something sleeps on it: a test of a wait,
a retry or a deadline runs in no real time and asserts exact instants."""


class FakeClock:
    """Pass `monotonic` where the code takes a clock and `sleep` where it
    takes a sleep. `slept` keeps every sleep asked for, in order."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        """Time passing without a sleep (another thread's work)."""
        self.now += seconds
