"""What the dashboard's tests share beyond fixtures: the admin's password,
the REST API as the admin (to set a scene the page then shows), the
artefacts of a failure, the documentation's screenshots and the timings
printed at the end of the run.

Imported as tests.ui.helpers (conftest.py re-exports it): one module,
whichever name pytest loads the conftest under.
"""

import json
import os
import pathlib
import re
import tempfile
import urllib.error
import urllib.request

from tests.helpers.waiting import wait_until

ADMIN_PASSWORD = "ui-admin-pass"
ARTIFACTS = pathlib.Path(tempfile.gettempdir()) / "arame-ui-artifacts"
# Set to a directory to keep screenshots of the main pages there (the
# documentation's: doc/source/_static/dashboard).
SCREENSHOTS = os.environ.get("ARAME_UI_SCREENSHOTS")

# What the tests measured, printed at the end of the run.
TIMINGS: list[str] = []


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]


def keep_artefacts(pg, name: str) -> pathlib.Path:
    out = ARTIFACTS / _safe(name)
    out.mkdir(parents=True, exist_ok=True)
    try:
        pg.screenshot(path=str(out / "screenshot.png"), full_page=True)
    except Exception as e:  # the page may have gone with the failure
        pg.console_log.append(f"[artefacts] no screenshot: {e}")
    (out / "console.log").write_text("\n".join(pg.console_log) + "\n")
    (out / "url.txt").write_text(pg.url + "\n")
    return out


class Api:
    """The REST API as the tests' admin (setting the scene the page then
    shows): urllib, JSON, the bearer token."""

    def __init__(self, url: str):
        self.url = url
        self.token = self.login("admin", ADMIN_PASSWORD)["token"]

    def call(self, method, path, body=None, token=None, expect=None):
        req = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        if token is not False:
            req.add_header("Authorization", f"Bearer {token or self.token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, data = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, data = e.code, e.read()
        answer = json.loads(data) if data else None
        if expect is not None:
            assert status == expect, (method, path, status, answer)
        return answer

    def login(self, username, password):
        return self.call(
            "POST",
            "/v1/auth/tokens",
            {"username": username, "password": password},
            token=False,
            expect=201,
        )

    def instance_status(self, instance_id):
        return self.call("GET", f"/v1/instances/{instance_id}")["status"]

    def launch(self, name) -> dict:
        image = self.call("GET", "/v1/images")["items"][0]["id"]
        flavor = self.call("GET", "/v1/flavors")["items"][0]["name"]
        inst = self.call(
            "POST",
            "/v1/instances",
            {"name": name, "flavor": flavor, "image": image},
            expect=202,
        )
        wait_until(
            lambda: self.instance_status(inst["id"]) == "running",
            timeout=60,
            what=f"{name} running",
        )
        return inst

    def user(self, username, password, role) -> dict:
        account = self.login("admin", ADMIN_PASSWORD)["account_id"]
        return self.call(
            "POST",
            "/v1/users",
            {
                "username": username,
                "password": password,
                "account_id": account,
                "role": role,
            },
            expect=201,
        )


def snapshot(pg, name: str, full_page: bool = False) -> None:
    """Keep a screenshot of the page for the documentation when
    ARAME_UI_SCREENSHOTS names a directory (the window, or the whole
    page with full_page)."""
    if SCREENSHOTS:
        d = pathlib.Path(SCREENSHOTS)
        d.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(d / f"{name}.png"), full_page=full_page)
