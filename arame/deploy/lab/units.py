"""Each lab host's files, as an operator puts them on a real host: the
shared `arame.conf` with the host's `[DEFAULT] host`, and the systemd units
of its roles, copied from etc/arame/systemd/ unchanged, plus a drop-in
where this machine differs from the units' assumptions (the daemons'
directory; no `arame` user). The supervisor runs the `ExecStart=` it reads
back from these files, so what the lab runs is what the units say.
"""

import configparser
import os
import pwd
import shlex
import shutil

from arame.deploy.lab import topology

# The repository's units (doc/source/admin/many-hosts.rst installs them).
UNIT_SOURCE = os.path.normpath(
    os.path.join(
        os.path.dirname(__file__), "..", "..", "..", "etc", "arame", "systemd"
    )
)
UNITS_BIN = "/usr/local/bin"

# role -> (unit, how many instances the lab runs of it)
ROLE_UNITS = {
    topology.CONTROLLER: [
        ("arame-api", 1),
        # A second scheduler stands in for a second controller: they share
        # the work (leases) as two controller hosts would.
        ("arame-scheduler", 2),
        ("arame-collector", 1),
    ],
    topology.STORAGE: [("arame-sta", 1)],
    topology.NETWORK: [("arame-nsa", 1)],
    topology.COMPUTE: [("arame-hva", 1)],
}

# libvirt's own daemons on a compute host: Debian's units start them with
# no pidfile (systemd tracks them); here the pidfile goes to the host's
# private /run/libvirt, never to the machine's /run.
LIBVIRT_DAEMONS = {
    "virtlogd": ["/usr/sbin/virtlogd", "-p", "/run/libvirt/virtlogd.pid"],
    "libvirtd": ["/usr/sbin/libvirtd", "-p", "/run/libvirt/libvirtd.pid"],
}


def write_config(
    path: str, common: dict, host: topology.Host, own: dict | None = None
) -> None:
    """The one arame.conf every host shares, with this host's name and
    `own` options (its iSCSI initiator's address)."""
    cp = configparser.ConfigParser(interpolation=None)
    cp.read_dict(common)
    cp.read_dict(own or {})
    cp["DEFAULT"]["host"] = host.name
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(
            f"# /etc/arame/arame.conf of {host.name} (tools/lab): the "
            "same on every host but for [DEFAULT] host and, on a "
            "hypervisor, [libvirt] iscsi_initiator_address.\n"
        )
        cp.write(f)


def daemons(host: topology.Host) -> list[tuple[str, str]]:
    """(daemon name, unit) of every Arame daemon the host runs, in start
    order: the agents before the API, as a boot orders them."""
    out = []
    order = [
        topology.STORAGE,
        topology.NETWORK,
        topology.COMPUTE,
        topology.CONTROLLER,
    ]
    for role in order:
        if role not in host.roles:
            continue
        for unit, count in ROLE_UNITS[role]:
            base = unit.removeprefix("arame-")
            for i in range(1, count + 1):
                out.append((base if i == 1 else f"{base}-{i}", unit))
    return out


def write_units(units_dir: str, host: topology.Host, bin_dir: str) -> None:
    os.makedirs(units_dir, exist_ok=True)
    for _, unit in daemons(host):
        name = f"{unit}.service"
        shutil.copyfile(
            os.path.join(UNIT_SOURCE, name), os.path.join(units_dir, name)
        )
        lines = []
        if os.path.realpath(bin_dir) != UNITS_BIN:
            lines += [
                f"# The daemons are in {bin_dir}, not {UNITS_BIN}.",
                "ExecStart=",
                f"ExecStart={bin_dir}/{unit} --config-file "
                "/etc/arame/arame.conf",
            ]
        if _no_user("arame") and "User=arame" in _read(
            os.path.join(UNIT_SOURCE, name)
        ):
            lines += ["# No user arame on this machine.", "User=", "Group="]
        dropin = os.path.join(units_dir, f"{name}.d")
        if lines:
            os.makedirs(dropin, exist_ok=True)
            with open(os.path.join(dropin, "lab.conf"), "w") as f:
                f.write("[Service]\n" + "\n".join(lines) + "\n")
        elif os.path.isdir(dropin):
            shutil.rmtree(dropin)


def exec_start(units_dir: str, unit: str) -> list[str]:
    """The command line systemd would run: the unit's last ExecStart=,
    drop-ins (in name order) after it; an empty ExecStart= resets."""
    path = os.path.join(units_dir, f"{unit}.service")
    files = [path]
    dropin = f"{path}.d"
    if os.path.isdir(dropin):
        files += [
            os.path.join(dropin, f)
            for f in sorted(os.listdir(dropin))
            if f.endswith(".conf")
        ]
    cmd = None
    for f in files:
        for line in _read(f).splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() == "ExecStart":
                cmd = value.strip() or None
    if not cmd:
        raise ValueError(f"{path}: no ExecStart=")
    return shlex.split(cmd)


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def _no_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return True
    return False
