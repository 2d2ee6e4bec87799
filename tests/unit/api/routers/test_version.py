"""GET /v1/version: any authenticated caller; the build from the package's
metadata when it records one."""

import json

import pytest

import arame
from arame.api.services import version


def test_any_role_reads_the_version(client, admin, make_user, error_of):
    reader = make_user("reader")
    for caller in (admin, reader):
        r = client.get("/v1/version", headers=caller.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"api_version", "version", "build", "features"}
        assert body["version"] == arame.__version__
        assert body["api_version"].startswith("1.")
        assert body["features"] == sorted(body["features"])
        assert {
            "unit_groups",
            "root_gb",
            "key_pairs",
            "instance_metrics",
            "image_delete",
            "instance_security_groups",
        } <= set(body["features"])
    error_of(client.get("/v1/version"), 401, "unauthorized")


class Dist:
    def __init__(self, version="0.1.0", direct_url=None):
        self.version = version
        self._direct_url = direct_url

    def read_text(self, name):
        assert name == "direct_url.json"
        return self._direct_url


COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    "dist, build",
    [
        (None, None),
        (Dist(), None),  # an editable checkout records no commit
        (
            Dist(
                direct_url=json.dumps(
                    {
                        "url": "https://example.org/arame.git",
                        "vcs_info": {"vcs": "git", "commit_id": COMMIT},
                    }
                )
            ),
            COMMIT,
        ),
        (Dist(direct_url=json.dumps({"url": "file:///src"})), None),
        (Dist(direct_url="{not json"), None),
        (Dist(version="0.1.1.dev3+g1a2b3c4"), "1a2b3c4"),
        (Dist(version="0.1.1.dev3+g1a2b3c4.d20250101"), "1a2b3c4"),
    ],
)
def test_the_build_is_the_commit_the_metadata_records(dist, build):
    assert version.build_of(dist) == build
