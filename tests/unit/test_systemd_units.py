"""etc/arame/systemd/: one unit per daemon, each starting a console script
that setup.cfg declares, reloading with SIGHUP and stopping gracefully."""

import configparser
import pathlib
import shlex

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
UNITS = ROOT / "etc" / "arame" / "systemd"
DAEMONS = (
    "arame-api",
    "arame-scheduler",
    "arame-collector",
    "arame-hva",
    "arame-sta",
    "arame-nsa",
    "arame-bma",
    "arame-l3",
)
UNPRIVILEGED = {"arame-api", "arame-scheduler", "arame-collector"}


def _console_scripts() -> set[str]:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(ROOT / "setup.cfg")
    lines = cfg["options.entry_points"]["console_scripts"].strip().splitlines()
    return {line.split("=", 1)[0].strip() for line in lines if "=" in line}


def _unit(path: pathlib.Path) -> configparser.ConfigParser:
    # systemd keys repeat (After=, Wants=) and values hold '%' and '$':
    # strict=False keeps the last, no interpolation, keys keep their case.
    cfg = configparser.ConfigParser(strict=False, interpolation=None)
    cfg.optionxform = str
    cfg.read_string(path.read_text(), source=str(path))
    return cfg


def _unit_files():
    return sorted(UNITS.glob("*.service"))


def test_every_daemon_has_a_unit():
    assert _console_scripts() >= set(DAEMONS), "setup.cfg lost a daemon"
    have = {p.stem for p in _unit_files()}
    missing = set(DAEMONS) - have
    assert not missing, (
        f"no unit in {UNITS.relative_to(ROOT)} for {sorted(missing)}"
    )


@pytest.mark.parametrize("path", _unit_files(), ids=lambda p: p.name)
def test_unit(path):
    unit = _unit(path)
    service = unit["Service"]

    argv = shlex.split(service["ExecStart"])
    script = pathlib.PurePosixPath(argv[0]).name
    assert script in _console_scripts(), (
        f"{path.name}: ExecStart runs {argv[0]}, not a console script of setup.cfg"
    )
    assert script == path.stem, f"{path.name} starts {script}"
    assert argv[1:] == ["--config-file", "/etc/arame/arame.conf"]

    reload = shlex.split(service["ExecReload"])
    assert (
        reload[0].endswith("kill")
        and "-HUP" in reload
        and "$MAINPID" in reload
    ), f"{path.name}: ExecReload must send SIGHUP to the daemon"

    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) >= 60
    assert service["Restart"] == "on-failure"
    assert service["User"] == ("arame" if script in UNPRIVILEGED else "root")

    after = unit["Unit"]["After"].split()
    assert "network-online.target" in after
    if script in UNPRIVILEGED:
        wants = unit["Unit"]["Wants"].split()
        for dep in ("rabbitmq-server.service", "mariadb.service"):
            assert dep in after and dep in wants, f"{path.name}: {dep}"
    if script == "arame-hva":
        assert "libvirtd.service" in after

    assert unit["Install"]["WantedBy"] == "multi-user.target"
