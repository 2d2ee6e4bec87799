"""Agents hold no DB credentials, and their imports show it: loading an
agent's daemon (service) or manager loads neither SQLAlchemy nor Arame's
DB layer. Each import runs in a fresh interpreter, so nothing another test
imported can hide a dependency."""

import subprocess
import sys

import pytest

MODULES = [
    f"arame.agents.{agent}.{part}"
    for agent in ("hva", "sta", "nsa", "bma")
    for part in ("service", "manager")
]
FORBIDDEN = ("sqlalchemy", "arame.common.db")


@pytest.mark.parametrize("module", MODULES)
def test_an_agent_imports_no_db_layer(module):
    code = (
        f"import sys, {module}; "
        f"print(' '.join(m for m in {FORBIDDEN!r} if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"{module} loads {proc.stdout.strip()}"
