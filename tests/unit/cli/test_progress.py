import io

from arame.cli.progress import (
    PlainProgress,
    RichProgress,
    format_event,
    progress_for,
)

SCHEDULED = {
    "step": "schedule",
    "status": "done",
    "duration_ms": 4,
    "host": None,
}
BOOTING = {
    "step": "boot",
    "status": "running",
    "host": "hv1",
    "duration_ms": None,
}


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_each_new_event_is_printed_once():
    out = io.StringIO()
    progress = PlainProgress(out)

    progress.update({"events": [SCHEDULED]})
    progress.update({"events": [SCHEDULED]})
    progress.update({"events": [SCHEDULED, BOOTING]})

    assert out.getvalue().splitlines() == [
        "schedule: done (4 ms)",
        "boot: running on hv1",
    ]


def test_event_line_has_step_status_host_duration_and_message():
    line = format_event(
        {
            "step": "boot",
            "status": "failed",
            "host": "hv1",
            "duration_ms": 30,
            "message": "no disk",
        }
    )
    assert line == "boot: failed on hv1 (30 ms) - no disk"


def test_rich_is_used_only_on_a_terminal():
    assert type(progress_for(io.StringIO())) is PlainProgress
    assert type(progress_for(Terminal())) is RichProgress


def test_rich_progress_still_prints_the_event_lines():
    out = Terminal()
    with progress_for(out) as progress:
        progress.update(
            {"id": "t-1", "status": "running", "events": [SCHEDULED]}
        )
    assert "schedule: done (4 ms)" in out.getvalue()
