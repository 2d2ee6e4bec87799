"""What the test tiers share: waiting on a condition, fakes, clocks.

Imported as ``tests.helpers`` (pytest puts the repository root on the path:
``pythonpath`` in pyproject.toml), so every suite, run alone or together,
uses the same copy.
"""
