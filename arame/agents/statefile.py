"""A fake driver's state in a JSON file, so that it outlives its agent as a
real hypervisor's guests (or a pool's datasets, or dnsmasq's reservations)
outlive a SIGKILLed arame-hva (or sta, or nsa).

The file is one JSON object; each fake owns some of its top-level keys and
changes only those (`update`), so two fakes of one agent (sta's backend
and target) or the many fake hosts of one hva share a file. It is written
whole after every change, beside itself then renamed over (os.replace):
a reader, or the next agent after a kill, sees the old state or the new,
never half of one. A `<file>.tmp` left by a kill mid-write is ignored and
overwritten. One agent process per file: processes do not lock each
other out.
"""

import json
import os
import threading

# Per path, for every StateFile of the process: two fakes sharing a file
# must not write over each other's change.
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock(path: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path, threading.Lock())


class CorruptStateFile(ValueError):
    """The file is not a JSON object: never written by StateFile (it
    renames whole files), so the fake refuses to start rather than forget
    what it held."""


class StateFile:
    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        self._lock = _lock(self.path)

    def _read(self) -> dict:
        try:
            with open(self.path, encoding="utf-8") as f:
                doc = json.load(f)
        except FileNotFoundError:
            return {}
        except ValueError as e:
            raise CorruptStateFile(f"{self.path}: {e}") from None
        if not isinstance(doc, dict):
            raise CorruptStateFile(f"{self.path}: not a JSON object")
        return doc

    def load(self) -> dict:
        """The whole document ({} when there is no file yet)."""
        with self._lock:
            return self._read()

    def update(self, change) -> None:
        """change(doc) edits the document in place; it is then written."""
        with self._lock:
            doc = self._read()
            change(doc)
            self._write(doc)

    def _write(self, doc: dict) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        tmp = self.path + ".tmp"
        # 0600: the fake iSCSI target keeps CHAP passwords here.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


def open_state(path: str | None) -> StateFile | None:
    """A StateFile for a configured path; None (in memory) when empty."""
    return StateFile(path) if path else None
