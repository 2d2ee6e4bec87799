"""The progress bar of a wait: tqdm's notebook-aware bar when tqdm is
installed (a widget in Jupyter, text in a terminal), nothing otherwise."""

from __future__ import annotations

import importlib
from typing import Any


class Bar:
    """Nodes done out of a total, and the step the work is at."""

    def __init__(self, desc: str, total: int, enabled: bool = True) -> None:
        self._bar = _tqdm(desc, total) if enabled else None

    def show(self, done: int, total: int, step: str | None) -> None:
        if self._bar is None:
            return
        if total != self._bar.total:
            self._bar.total = total
        self._bar.n = min(done, total) if total else done
        self._bar.set_postfix_str(step or "", refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _tqdm(desc: str, total: int) -> Any:
    try:
        auto = importlib.import_module("tqdm.auto")
    except ImportError:
        return None
    return auto.tqdm(total=total, desc=desc, unit="node", leave=True)
