"""GET /v1/version: what this API is, for clients that adapt to it (the
SDK's `version()`, the dashboard).

`api_version` moves its minor number when routes or fields are added (old
clients keep working); `features` names what a client may test for rather
than compare versions. `build` is the commit the package was installed
from, when its metadata says so (a pip install from git records it; an
editable checkout does not): null otherwise.
"""

import functools
import importlib.metadata
import json
import re

import arame

API_VERSION = "1.1"

# One name per capability added since 1.0; kept sorted in the answer.
FEATURES = (
    "image_delete",
    "instance_metrics",
    "instance_security_groups",
    "key_pairs",
    "root_gb",
    "unit_groups",
)

_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")
# A version's local part as setuptools-scm writes it: 0.1.1.dev3+g1a2b3c4
_LOCAL_COMMIT = re.compile(r"\+g([0-9a-f]{7,40})(?:\.|$)")


def _from_direct_url(dist) -> str | None:
    """PEP 610: an install from a VCS URL records the commit it took."""
    try:
        raw = dist.read_text("direct_url.json")
        commit = json.loads(raw)["vcs_info"]["commit_id"] if raw else None
    except (ValueError, KeyError, TypeError):
        return None
    return (
        commit if isinstance(commit, str) and _COMMIT.match(commit) else None
    )


def build_of(dist) -> str | None:
    """The commit `dist` was built from, or None if its metadata does not
    say."""
    if dist is None:
        return None
    commit = _from_direct_url(dist)
    if commit is None:
        m = _LOCAL_COMMIT.search(dist.version or "")
        commit = m.group(1) if m else None
    return commit


def _distribution():
    try:
        return importlib.metadata.distribution("arame")
    except importlib.metadata.PackageNotFoundError:
        return None


@functools.cache
def _build() -> str | None:
    # The metadata does not change while the process runs.
    return build_of(_distribution())


def get_version(ctxt) -> dict:
    return {
        "api_version": API_VERSION,
        "version": arame.__version__,
        "build": _build(),
        "features": sorted(FEATURES),
    }
