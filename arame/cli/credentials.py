"""Where ``arame login`` keeps its token between runs.

The file holds a bearer token, so it is created 0600 inside a 0700 directory
and replaced atomically: a crash mid-write never leaves half a file, and there
is no moment when the token sits in a file others can read.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

LOG = logging.getLogger(__name__)
FILENAME = "credentials.json"


def path(environ: Mapping[str, str] = os.environ) -> Path:
    """``$ARAME_CONFIG_DIR/credentials.json``, else the XDG config directory."""
    if environ.get("ARAME_CONFIG_DIR"):
        return Path(environ["ARAME_CONFIG_DIR"]) / FILENAME
    config_home = environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config_home) / "arame" / FILENAME


def load(environ: Mapping[str, str] = os.environ) -> dict[str, Any] | None:
    """The stored credentials, or None if there are none usable."""
    target = path(environ)
    try:
        data = json.loads(target.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        # A broken file must not lock the user out of `arame login`, which
        # is the way to repair it.
        LOG.warning("ignoring unreadable credentials file %s: %s", target, exc)
        return None
    return data if isinstance(data, dict) else None


def save(
    data: Mapping[str, Any], environ: Mapping[str, str] = os.environ
) -> Path:
    target = path(environ)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkstemp creates the file 0600 in the same directory, so os.replace is
    # an atomic rename and also tightens a file left too open by other means.
    fd, tmp = tempfile.mkstemp(
        dir=target.parent, prefix=".credentials.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(dict(data), f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target
