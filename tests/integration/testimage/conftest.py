"""Boot the test image in plain QEMU processes (TCG), no libvirt.

libvirtd belongs to other suites running at the same time; these tests
start their own qemu-system-x86_64, read its serial console from a file,
talk to it over QMP, and kill it by PID at the end.
"""

import contextlib
import json
import os
import re
import socket
import subprocess
import time

import netlab
import pytest

from arame.deploy import testimage
from tests.helpers.waiting import wait_until

MARKER = testimage.MARKER
BOOT_DEADLINE = 120.0  # s: TCG on two shared cores, with other suites busy


@pytest.fixture(scope="session")
def image(tmp_path_factory) -> dict:
    """The test image, built once per session into its own directory."""
    t0 = time.monotonic()
    result = testimage.build(str(tmp_path_factory.mktemp("testimage") / "img"))
    result["elapsed"] = time.monotonic() - t0
    return result


@pytest.fixture
def lab():
    with netlab.lab() as lb:
        yield lb


class QMP:
    """Just enough of QEMU's machine protocol: capabilities, execute."""

    def __init__(self, path: str, timeout: float = 30.0):
        self.sock = wait_until(
            lambda: self._connect(path), timeout, f"QMP socket {path}"
        )
        self.sock.settimeout(timeout)
        self.reader = self.sock.makefile("r")
        json.loads(self.reader.readline())  # greeting
        self.execute("qmp_capabilities")

    @staticmethod
    def _connect(path: str):
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
        except OSError:
            s.close()
            return None
        return s

    def execute(self, command: str, **arguments) -> dict:
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:  # events may come before the answer
            answer = json.loads(self.reader.readline())
            if "return" in answer or "error" in answer:
                return answer

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.reader.close()
            self.sock.close()


class Guest:
    """One qemu process and its serial console log."""

    def __init__(
        self, workdir, name: str, args: list[str], netns: str | None = None
    ):
        self.name = name
        self.log = os.path.join(workdir, f"{name}.log")
        self.qmp_path = os.path.join(workdir, f"{name}.qmp")
        cmd = [
            "qemu-system-x86_64",
            "-m",
            "256",
            "-nographic",
            "-nodefaults",
            "-serial",
            f"file:{self.log}",
            "-qmp",
            f"unix:{self.qmp_path},server=on,wait=off",
        ] + args
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        self.out = os.path.join(workdir, f"{name}.out")
        self.t0 = time.monotonic()
        with open(self.out, "wb") as out:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self._qmp: QMP | None = None

    def console(self) -> str:
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def qemu_output(self) -> str:
        with open(self.out, "rb") as f:
            return f.read().decode("utf-8", "replace")[-2000:]

    def markers(self) -> list[str]:
        return [
            line.strip()[len(MARKER) + 1 :]
            for line in self.console().splitlines()
            if line.startswith(MARKER + " ")
        ]

    def wait_for(
        self, pattern: str, count: int = 1, timeout: float = BOOT_DEADLINE
    ) -> re.Match:
        """The count-th marker matching `pattern` (a regular expression
        over what follows "ARAME-TEST-IMAGE ")."""
        rx = re.compile(pattern)

        def found():
            exited = self.proc.poll() is not None  # before reading the log
            hits = [m for m in map(rx.fullmatch, self.markers()) if m]
            if len(hits) >= count:
                return hits[count - 1]
            if exited:
                raise AssertionError(
                    f"qemu exited ({self.proc.returncode}) before "
                    f"{pattern!r}: {self.qemu_output()}"
                )
            return None

        try:
            return wait_until(found, timeout, f"marker {pattern!r}")
        except AssertionError as e:
            raise AssertionError(
                f"{e}\nconsole:\n{self.console()[-3000:]}"
            ) from None

    @property
    def qmp(self) -> QMP:
        if self._qmp is None:
            self._qmp = QMP(self.qmp_path)
        return self._qmp

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"qemu still running after {timeout:g} s"
                f"\nconsole:\n{self.console()[-3000:]}"
            ) from None

    def kill(self) -> None:
        if self._qmp:
            self._qmp.close()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def boot(tmp_path):
    """boot(name, args, netns=None) -> Guest; every guest killed at the end."""
    guests = []

    def start(name: str, args: list[str], netns: str | None = None) -> Guest:
        g = Guest(str(tmp_path), name, args, netns)
        guests.append(g)
        return g

    yield start
    for g in guests:
        g.kill()


def tap(
    lab: netlab.Lab, ns: str, suffix: str, bridge: str | None = None
) -> str:
    """A persistent tap in `ns` for qemu to open, on `bridge` if given."""
    name = lab.name(suffix)
    netlab.run("ip", "tuntap", "add", "dev", name, "mode", "tap", netns=ns)
    if bridge:
        netlab.run("ip", "link", "set", name, "master", bridge, netns=ns)
    netlab.run("ip", "link", "set", name, "up", netns=ns)
    return name


def ssh_fingerprint(pub_path: str) -> str:
    """What ssh-keygen prints: '<bits> SHA256:... comment (TYPE)'."""
    out = subprocess.run(
        ["ssh-keygen", "-lf", pub_path],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.split()[1]


@pytest.fixture(scope="session")
def keys(tmp_path_factory) -> list[tuple[str, str]]:
    """Two public keys (ed25519, RSA) as (line, ssh-keygen fingerprint)."""
    d = tmp_path_factory.mktemp("keys")
    out = []
    for kind, extra in (("ed25519", []), ("rsa", ["-b", "2048"])):
        path = str(d / kind)
        subprocess.run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                kind,
                *extra,
                "-N",
                "",
                "-C",
                f"tester@{kind}: #1",
                "-f",
                path,
            ],
            check=True,
        )
        with open(path + ".pub") as f:
            out.append((f.read().strip(), ssh_fingerprint(path + ".pub")))
    return out
