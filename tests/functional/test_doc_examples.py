"""The user guide's examples (doc/source/user/examples/) run against the
all-in-one and print what the guide shows they print.

Each example is a program a reader can copy; its `.out` file beside it is
the output the guide quotes. arame-all runs as a reader would start it:
its own process, a state directory and SQLite file of its own, the
in-process bus and fake drivers, on a free port.
"""

import os
import pathlib
import socket
import subprocess
import sys
import urllib.request

import pytest

from tests.helpers.waiting import wait_until

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "doc" / "source" / "user" / "examples"
PASSWORD = "doc-examples"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def all_in_one(tmp_path_factory):
    state = tmp_path_factory.mktemp("aio")
    port = _free_port()
    conf = state / "arame.conf"
    conf.write_text(f"""[DEFAULT]
state_path = {state}
transport_url = fake://
[database]
connection = sqlite:///{state}/arame.db
[api]
host = 127.0.0.1
port = {port}
""")
    url = f"http://127.0.0.1:{port}"
    log = open(state / "arame-all.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "arame.cmd.all", "--config-file", str(conf)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env={**os.environ, "ARAME_ADMIN_PASSWORD": PASSWORD},
    )

    def healthy():
        assert proc.poll() is None, (state / "arame-all.log").read_text()
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return True
        except OSError:
            return False

    try:
        wait_until(healthy, timeout=60, what="arame-all answering /healthz")
        yield {"url": url, "state": state}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


EXAMPLE_FILES = sorted(
    p.name for p in EXAMPLES.iterdir() if p.suffix in (".py", ".sh")
)


def test_every_example_has_its_output():
    outputs = sorted(p.stem for p in EXAMPLES.glob("*.out"))
    assert outputs == sorted(pathlib.Path(n).stem for n in EXAMPLE_FILES)


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_example_prints_what_the_guide_says(all_in_one, tmp_path, name):
    path = EXAMPLES / name
    cmd = (
        [sys.executable, str(path)]
        if path.suffix == ".py"
        else ["bash", str(path)]
    )
    # The CLI examples find the console script beside this interpreter.
    bindir = os.path.dirname(sys.executable)
    env = {
        **os.environ,
        "ARAME_URL": all_in_one["url"],
        "ARAME_PASSWORD": PASSWORD,
        "ARAME_CONFIG_DIR": str(tmp_path),
        "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
    }
    done = subprocess.run(
        cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == path.with_suffix(".out").read_text(), done.stderr
