"""How arame-api serves the dashboard, without a browser: the files under
/ui/ with a strict Content-Security-Policy, `/` sending browsers there,
no inline script or style in any file, and every file in the wheel."""

import fnmatch
import pathlib
import re

import pytest
from fastapi.testclient import TestClient

from arame.api import web
from arame.api.app import create_app

ROOT = pathlib.Path(__file__).resolve().parents[2]
WEB = ROOT / "arame" / "web"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def test_the_index_is_served_with_a_strict_csp(client):
    r = client.get("/ui/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "unsafe" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"


def test_modules_are_javascript_and_a_missing_file_is_a_404(client):
    r = client.get("/ui/js/main.js")
    assert r.status_code == 200
    assert "javascript" in r.headers["content-type"]
    missing = client.get("/ui/js/nothing.js")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert "content-security-policy" in missing.headers


def test_browsers_are_sent_to_the_dashboard_and_programs_get_a_404(client):
    r = client.get(
        "/", headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/ui/"
    r = client.get("/", headers={"Accept": "application/json"})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_the_dashboard_is_not_in_the_api_document(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert not [p for p in paths if p.startswith("/ui")]


INLINE = (
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),  # inline script
    re.compile(r"<style", re.I),
    re.compile(r"\sstyle\s*=", re.I),  # style attributes
    re.compile(r"\son[a-z]+\s*=", re.I),  # onclick= handlers
    re.compile(r"javascript:", re.I),
)


def web_files():
    return sorted(p for p in WEB.rglob("*") if p.is_file())


def test_no_file_holds_inline_script_or_style():
    for path in web_files():
        if path.suffix not in (".html", ".svg"):
            continue
        text = path.read_text()
        for pattern in INLINE:
            assert not pattern.search(text), (path, pattern.pattern)


def test_no_module_writes_html_strings():
    # Text goes into the page as text (js/dom.js), never parsed as HTML.
    for path in WEB.rglob("*.js"):
        text = path.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "eval("):
            assert sink not in text, (path, sink)


def test_every_file_ships_in_the_wheel():
    # As setuptools reads setup.cfg (it splits a value of several lines
    # at the line ends only).
    from setuptools.config.setupcfg import read_configuration

    cfg = read_configuration(ROOT / "setup.cfg")
    globs = cfg["options"]["package_data"]["arame"]
    for path in web_files():
        rel = path.relative_to(ROOT / "arame").as_posix()
        # fnmatch's * crosses '/', setuptools' does not: compare depth too.
        assert any(
            fnmatch.fnmatch(rel, g) and rel.count("/") == g.count("/")
            for g in globs
        ), f"{rel} is in no package_data glob of setup.cfg"


def test_the_served_root_is_the_package_directory():
    assert web.WEB_ROOT == WEB
