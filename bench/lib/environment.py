"""What a run ran on: the machine, the versions of its services, the code."""

import os
import platform
import subprocess

import arame


def versions() -> dict:
    v = {"python": platform.python_version()}
    try:
        v["rabbitmq"] = subprocess.run(
            ["rabbitmqctl", "version"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    try:
        v["mariadb"] = subprocess.run(
            ["mariadb", "--version"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    return v


def code_version() -> dict:
    """The commit the daemons run (they start from the installed, editable
    package), and whether arame/ has uncommitted changes."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(arame.__file__)))
    out = {"repo": repo}
    try:
        out["commit"] = subprocess.run(
            ["git", "-C", repo, "log", "-1", "--format=%h %cI %s"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", repo, "status", "--porcelain", "--", "arame"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        out["arame_uncommitted"] = len(dirty.splitlines())
    except (OSError, subprocess.TimeoutExpired):
        pass
    return out


def machine() -> dict:
    mem = 0
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(mem / 2**30, 1),
        "kernel": platform.release(),
        "loadavg_at_start": load,
    }
