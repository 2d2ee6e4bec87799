"""The Arame test image: a tiny guest built offline from Debian packages.

Every VM and bare-metal test boots it, and so does the quickstart. Its init
prints markers on the serial console ("ARAME-TEST-IMAGE booted ...",
"... hostname=...", "... ip=...", "... ready"): see the `init` file beside
this module for the whole list. `build(output_dir)` makes it.
"""

from arame.deploy.testimage.builder import BuildError, build

MARKER = "ARAME-TEST-IMAGE"

__all__ = ["MARKER", "BuildError", "build"]
