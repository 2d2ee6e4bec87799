"""arame-client (clients/pyproject.toml): a wheel of arame.sdk and
arame.cli alone, whose dependencies are the client's few, and which works
in an interpreter where the server's libraries cannot be imported.

The wheel is built offline from a scratch directory holding
clients/pyproject.toml and README.md beside a link to the repository's
arame/: the config under test, unchanged, without leaving setuptools'
build/ in the source tree (where a stale file would ride along later).
"""

import json
import pathlib
import subprocess
import sys
import zipfile
from email.parser import Parser

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
CLIENT_PACKAGES = ("arame/sdk/", "arame/cli/")
SERVER_LIBS = (
    "oslo_messaging",
    "oslo_config",
    "oslo_service",
    "oslo_log",
    "sqlalchemy",
    "alembic",
    "fastapi",
    "pydantic",
    "uvicorn",
    "libvirt",
    "cryptography",
    "pymysql",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> pathlib.Path:
    scratch = tmp_path_factory.mktemp("client-build")
    (scratch / "clients").mkdir()
    for name in ("pyproject.toml", "README.md"):
        (scratch / "clients" / name).write_bytes(
            (ROOT / "clients" / name).read_bytes()
        )
    (scratch / "arame").symlink_to(ROOT / "arame")
    dist = scratch / "dist"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "-q",
            "-w",
            str(dist),
            str(scratch / "clients"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    [built] = dist.glob("arame_client-*.whl")
    return built


def _metadata(wheel: pathlib.Path):
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith("/METADATA"))
        return Parser().parsestr(z.read(name).decode())


def test_the_wheel_holds_the_sdk_and_the_cli_and_nothing_else(wheel):
    with zipfile.ZipFile(wheel) as z:
        files = [n for n in z.namelist() if ".dist-info/" not in n]
    assert "arame/__init__.py" in files
    others = [
        f
        for f in files
        if f != "arame/__init__.py" and not f.startswith(CLIENT_PACKAGES)
    ]
    assert others == []
    # Every module of the SDK and the CLI is there: a new subpackage left
    # out of clients/pyproject.toml's `packages` fails here.
    source = sorted(
        str(p.relative_to(ROOT))
        for pkg in CLIENT_PACKAGES
        for p in (ROOT / pkg).rglob("*.py")
    )
    assert sorted(f for f in files if f != "arame/__init__.py") == source


def test_the_wheel_depends_on_the_clients_libraries_only(wheel):
    meta = _metadata(wheel)
    assert meta["Name"] == "arame-client"
    requires = meta.get_all("Requires-Dist")
    base = sorted(r.split(">")[0] for r in requires if "extra ==" not in r)
    assert base == ["cliff", "httpx", "rich", "tenacity"]
    notebook = sorted(
        r.split(">")[0] for r in requires if 'extra == "notebook"' in r
    )
    assert notebook == ["ipywidgets", "pandas", "tqdm"]
    for forbidden in ("oslo", "sqlalchemy", "fastapi", "libvirt", "pydantic"):
        assert not any(forbidden in r.lower() for r in requires), requires


def test_the_wheel_installs_the_arame_command(wheel):
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith("entry_points.txt"))
        text = z.read(name).decode()
    assert "arame = arame.cli.main:main" in text


# Run with -S: the source tree's editable install (a .pth finder) must not
# hand out arame's server packages; the libraries' directory is added
# without its .pth files.
_BLOCKED_RUN = """
import importlib.abc, json, sys, sysconfig
for key in ("purelib", "platlib"):
    sys.path.append(sysconfig.get_paths()[key])
BLOCKED = {blocked!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is blocked: a server library")
sys.meta_path.insert(0, Block())
sys.path.insert(0, {site!r})
import arame, arame.sdk, arame.cli.main, arame.cli.registry
from arame.sdk import ArameSDK, Client
arame.cli.registry.build_command_manager()
try:
    import arame.api
except ImportError:
    has_server = False
else:
    has_server = True
print(json.dumps({{"arame": arame.__file__, "server": has_server}}))
"""


def test_the_installed_wheel_works_without_the_servers_libraries(
    wheel, tmp_path
):
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    done = subprocess.run(
        [
            sys.executable,
            "-S",
            "-c",
            _BLOCKED_RUN.format(blocked=SERVER_LIBS, site=str(site)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["arame"].startswith(str(site))
    assert seen["server"] is False


def test_importing_the_sdk_loads_neither_pandas_nor_tqdm():
    # pandas costs most of a second: a notebook pays it at its first
    # frame, a script that never makes one never pays it.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, arame.sdk; "
            "print(sorted(m for m in ('pandas', 'tqdm') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
