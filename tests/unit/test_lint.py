"""The gate: the tree passes ruff (lint, import order, format) and mypy on
its public surfaces, so the README's test command fails on a lint error."""

import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


def test_the_tree_passes_ruff_and_mypy():
    r = subprocess.run(
        [os.path.join(ROOT, "tools", "lint")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
