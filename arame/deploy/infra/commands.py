"""Running the host's tools for the infra modules, and what they raise."""

import shutil
import socket
import subprocess


class InfraError(RuntimeError):
    pass


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def run(args: list[str], timeout: float = 60, check: bool = True):
    proc = subprocess.run(
        args, capture_output=True, text=True, timeout=timeout
    )
    if check and proc.returncode != 0:
        raise InfraError(
            f"{' '.join(args)} failed ({proc.returncode}): "
            f"{proc.stderr.strip() or proc.stdout.strip()}"
        )
    return proc


def require(binary: str, package: str) -> str:
    path = shutil.which(binary)
    if path is None:
        raise InfraError(
            f"{binary} is not installed (apt-get install {package})"
        )
    return path


def pids(name: str) -> list[int]:
    out = run(["pgrep", "-x", name], check=False).stdout.split()
    return [int(p) for p in out]
