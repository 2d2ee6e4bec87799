"""Importing Arame as a library changes nothing in the importer's process:
only the daemons' entry points (arame.cmd) select oslo.service's backend and
filter warnings."""

import subprocess
import sys


def _run(code: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def test_the_sdk_loads_neither_oslo_service_nor_oslo_messaging():
    _run(
        "import sys, warnings; before = list(warnings.filters); "
        "import arame.sdk; "
        "assert 'oslo_service' not in sys.modules, 'oslo_service'; "
        "assert 'oslo_messaging' not in sys.modules, 'oslo_messaging'; "
        "assert warnings.filters == before, 'warning filters changed'"
    )


def test_a_daemon_entry_point_runs_on_native_threads_quietly():
    proc = _run(
        "import warnings; warnings.simplefilter('default'); "
        "import arame.cmd.hva; "
        "from oslo_service import backend; "
        "print(backend.get_backend_type().value)"
    )
    assert proc.stdout.strip() == "threading"
    assert "ventlet" not in proc.stderr
