"""The dashboard in a real browser: Debian's chromium, headless, driven by
Playwright against the all-in-one (fake drivers, the in-process bus, a
state directory of its own).

Playwright's own browser download is never used (these machines have no
network): the system binary is launched. On a failure the page's
screenshot and console log are kept under $TMPDIR/arame-ui-artifacts/
<test>, named in the failure report.
"""

import os
import pathlib
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.helpers.ports import free_port
from tests.helpers.waiting import wait_until
from tests.ui.helpers import (  # noqa: F401 (re-exported to the tests)
    ADMIN_PASSWORD,
    TIMINGS,
    Api,
    keep_artefacts,
    snapshot,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.write_sep("-", "dashboard timings")
        for line in TIMINGS:
            terminalreporter.write_line(line)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # At the failure, while the page is still open: its screenshot and
    # console log, and where they are in the report.
    rep = yield
    pg = getattr(item, "funcargs", {}).get("page")
    if rep.failed and pg is not None and rep.when in ("setup", "call"):
        out = keep_artefacts(pg, item.name)
        rep.sections.append(
            ("UI artefacts", f"screenshot and console log in {out}")
        )
    return rep


@pytest.fixture(scope="session")
def all_in_one(tmp_path_factory):
    """arame-all on a free port, as a reader of the README starts it."""
    state = tmp_path_factory.mktemp("ui-aio")
    port = free_port()
    conf = state / "arame.conf"
    conf.write_text(f"""[DEFAULT]
state_path = {state}
transport_url = fake://
[database]
connection = sqlite:///{state}/arame.db
[api]
host = 127.0.0.1
port = {port}
[hva]
# A new guest's charts within seconds.
metrics_interval = 1
""")
    url = f"http://127.0.0.1:{port}"
    log_path = state / "arame-all.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "arame.cmd.all", "--config-file", str(conf)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env={**os.environ, "ARAME_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )

    def healthy():
        assert proc.poll() is None, log_path.read_text()
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return True
        except OSError:
            return False

    try:
        wait_until(healthy, timeout=60, what="arame-all answering /healthz")
        yield {"url": url, "log": log_path}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def api(all_in_one):
    return Api(all_in_one["url"])


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), (
        f"{CHROMIUM} is missing: apt-get install chromium (tools/test-all)"
    )
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, all_in_one):
    """A fresh browser context (its own sessionStorage) on the all-in-one;
    page.console_log holds what the page printed, page.errors its console
    errors and uncaught exceptions."""
    from playwright.sync_api import expect

    expect.set_options(timeout=15000)
    context = browser.new_context(
        base_url=all_in_one["url"], viewport={"width": 1360, "height": 860}
    )
    pg = context.new_page()
    pg.console_log = []
    pg.errors = []

    def on_console(msg):
        line = f"[{msg.type}] {msg.text}"
        pg.console_log.append(line)
        if msg.type == "error":
            pg.errors.append(line)

    def on_error(exc):
        line = f"[pageerror] {exc}"
        pg.console_log.append(line)
        pg.errors.append(line)

    pg.on("console", on_console)
    pg.on("pageerror", on_error)
    yield pg
    context.close()
