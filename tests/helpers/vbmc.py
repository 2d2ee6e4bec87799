"""Our own virtualbmc: a vbmcd with its own config directory, pid file and
control port, started and stopped by PID, so nothing is shared with
another vbmcd on the machine. Used by the bma integration tests and the
bare-metal functional test.

The BMC password is on vbmc's command line: virtualbmc takes it no other
way (the tests' passwords are made per run). `--no-daemon`: vbmc never
starts a vbmcd other than ours.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys

from arame.deploy.pxe_node import LIBVIRT_URI
from tests.helpers.ports import free_port
from tests.helpers.waiting import wait_until


def tool(name: str) -> str:
    """A console script of this Python's environment (vbmc, vbmcd)."""
    path = os.path.join(os.path.dirname(sys.executable), name)
    found = path if os.access(path, os.X_OK) else shutil.which(name)
    assert found, f"{name} not installed (pip install virtualbmc)"
    return found


class Vbmcd:
    """vbmcd under `workdir`/vbmc, answering once the constructor returns;
    `serve` puts an IPMI endpoint in front of a libvirt domain."""

    def __init__(
        self,
        workdir: str,
        username: str,
        password: str,
        libvirt_uri: str = LIBVIRT_URI,
    ):
        self.username, self.password = username, password
        self.libvirt_uri = libvirt_uri
        self.dir = os.path.join(workdir, "vbmc")
        os.makedirs(os.path.join(self.dir, "conf.d"))
        self.config = os.path.join(self.dir, "virtualbmc.conf")
        self.pid_file = os.path.join(self.dir, "vbmcd.pid")
        self.log = os.path.join(self.dir, "vbmcd.log")
        with open(self.config, "w") as f:
            f.write(
                f"[default]\nconfig_dir = {self.dir}/conf.d\n"
                f"pid_file = {self.pid_file}\n"
                f"server_port = {free_port(socket.SOCK_STREAM)}\n"
                f"[log]\nlogfile = {self.log}\n"
            )
        self.env = dict(os.environ, VIRTUALBMC_CONFIG=self.config)
        self.proc = subprocess.Popen(
            [tool("vbmcd"), "--foreground"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_until(
                lambda: self.vbmc("list", check=False).returncode == 0,
                30,
                f"vbmcd to answer (log: {self.log})",
                interval=0.2,
            )
        except BaseException:
            self.stop()
            raise

    def vbmc(self, *args, check=True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [tool("vbmc"), "--no-daemon", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=check,
        )

    def serve(self, domain: str, port: int) -> None:
        """An IPMI endpoint for `domain` on 127.0.0.1:`port` (UDP)."""
        self.vbmc(
            "add",
            domain,
            "--address",
            "127.0.0.1",
            "--port",
            str(port),
            "--username",
            self.username,
            "--password",
            self.password,
            "--libvirt-uri",
            self.libvirt_uri,
        )
        self.vbmc("start", domain)

    def unserve(self, domain: str) -> None:
        """The endpoint gone, whatever state it was in."""
        self.vbmc("stop", domain, check=False)
        self.vbmc("delete", domain, check=False)

    def stop(self) -> None:
        """SIGTERM to our vbmcd (it stops its BMC children), by PID."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
