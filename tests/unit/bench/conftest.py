"""bench/ is scripts, not a package: its scripts import `lib` from their
own directory, and so do these tests."""

import os
import sys

BENCH = os.path.join(
    os.path.dirname(
        os.path.dirname(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        )
    ),
    "bench",
)
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)
