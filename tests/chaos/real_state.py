"""What the real drivers hold, read with their own tools, against what the
records say they should hold: libvirt's domains (`virsh list --all`),
their secrets and directories, the pool's datasets (`zfs list`), tgtd's
targets and CHAP accounts (`tgtadm`), and dnsmasq's host files and
processes.

A live resource (running or stopped instance, available or attached
volume) must be there; a gone one (terminated, deleted) or one of no
record must have left nothing. One in error may hold something or not
(its delete removes it). Each check returns its problems as sentences.
"""

import os
import re
import subprocess

from arame.common import ids

LIVE_INSTANCE = {"running": "running", "stopped": "shut off"}
LIVE_VOLUME = {"available", "attached"}
_VIRSH = ["virsh", "-c", "qemu:///system"]


def _run(argv: list[str]) -> str:
    """A tool's output; a tool that fails is the check's failure (a
    missing answer must never read as an empty, clean host)."""
    p = subprocess.run(
        argv, capture_output=True, text=True, timeout=60, check=False
    )
    if p.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} failed ({p.returncode}): {p.stderr.strip()}"
        )
    return p.stdout


# -- reads -----------------------------------------------------------------
def domains(dep) -> dict[str, str]:
    """name -> state of the deployment's domains (`virsh list --all`):
    the domains of other deployments on this libvirtd are told apart by
    their files, which live under this one's instances_path."""
    where = os.path.join(dep.conf["libvirt"]["instances_path"], "")
    out = {}
    for line in _run([*_VIRSH, "list", "--all"]).splitlines()[2:]:
        parts = line.split(None, 2)
        if len(parts) < 3:
            continue
        name, state = parts[1], parts[2].strip()
        xml = subprocess.run(
            [*_VIRSH, "dumpxml", name],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout  # empty: undefined since the listing
        if where in xml:
            out[name] = state
    return out


def secrets(instance_ids: set[str]) -> set[str]:
    """The instances (of those named) that libvirt keeps a secret for."""
    text = _run([*_VIRSH, "secret-list"])
    return {i for i in instance_ids if i in text}


def instance_dirs(dep) -> set[str]:
    path = dep.conf["libvirt"]["instances_path"]
    names = os.listdir(path) if os.path.isdir(path) else []
    return {n for n in names if ids.is_valid("instance", n)}


def datasets(dep) -> set[str]:
    pool = dep.conf["sta"]["pool"]
    return set(
        _run(
            [
                "zfs",
                "list",
                "-H",
                "-o",
                "name",
                "-t",
                "filesystem,volume",
                "-r",
                pool,
            ]
        ).split()
    )


def _tgtadm(dep, mode: str) -> str:
    return _run(
        [
            "tgtadm",
            "-C",
            str(dep.conf["sta"]["tgt_control_port"]),
            "--lld",
            "iscsi",
            "--op",
            "show",
            "--mode",
            mode,
        ]
    )


def targets(dep) -> set[str]:
    """The volumes tgtd exports (`Target <tid>: <iqn>:<volume id>`)."""
    return {
        m.group(1).rsplit(":", 1)[1]
        for m in re.finditer(
            r"^Target \d+: (\S+)$", _tgtadm(dep, "target"), re.MULTILINE
        )
    }


def accounts(dep) -> set[str]:
    """tgtd's CHAP users ("Account list:" then one a line)."""
    lines = _tgtadm(dep, "account").splitlines()[1:]
    return {line.strip() for line in lines if line.strip()}


def _lines(base: str, directory: str) -> dict[str, str]:
    """What dnsmasq reads: the base file, then the per-MAC files of the
    watched directory (dotfiles are skipped, as dnsmasq skips them);
    file name (or line) -> line."""
    out = {}
    if os.path.exists(base):
        with open(base) as f:
            for line in f.read().splitlines():
                out[line] = line
    if os.path.isdir(directory):
        for name in sorted(os.listdir(directory)):
            if name.startswith("."):
                continue
            with open(os.path.join(directory, name)) as f:
                for line in f.read().splitlines():
                    out[line] = line
    return out


def host_files(dep) -> dict[str, tuple[set, set]]:
    """network id -> ({(mac, ip, hostname)} of its dhcp host files,
    {(ip, hostname)} of its DNS host files)."""
    state = dep.conf["nsa"]["state_path"]
    out = {}
    for net in os.listdir(state) if os.path.isdir(state) else []:
        root = os.path.join(state, net)
        if not ids.is_valid("network", net) or not os.path.isdir(root):
            continue
        dhcp = {
            tuple(line.split(","))
            for line in _lines(
                os.path.join(root, "dhcp-hosts"),
                os.path.join(root, "dhcp-hosts.d"),
            )
        }
        dns = {
            (line.split()[0], line.split()[-1])
            for line in _lines(
                os.path.join(root, "hosts"), os.path.join(root, "hosts.d")
            )
            if line.split()
        }
        out[net] = ({(m.lower(), i, h) for m, i, h in dhcp}, dns)
    return out


def dnsmasqs(dep) -> dict[str, int]:
    """network id -> dnsmasq processes serving it (their command lines
    name the network's state directory)."""
    state = os.path.join(dep.conf["nsa"]["state_path"], "")
    out: dict[str, int] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        if not argv or os.path.basename(argv[0]) != "dnsmasq":
            continue
        for arg in argv:
            if state in arg:
                net = arg.split(state, 1)[1].split("/", 1)[0]
                out[net] = out.get(net, 0) + 1
                break
    return out


def summary(dep) -> str:
    """What the tools show, counted (the report of a pass: the checks
    looked at something)."""
    files = host_files(dep)
    return (
        f"virsh {len(domains(dep))} domains, zfs {len(datasets(dep))} "
        f"datasets, tgt {len(targets(dep))} targets and "
        f"{len(accounts(dep))} accounts, dnsmasq "
        f"{sum(len(d) for d, _ in files.values())} dhcp hosts and "
        f"{sum(dnsmasqs(dep).values())} processes"
    )


# -- against the records ---------------------------------------------------
def _compare(what: str, held: set, want: set, may: set) -> list[str]:
    """held must hold everything in want, and nothing beyond want | may."""
    out = []
    if want - held:
        out.append(
            f"{what} missing: {', '.join(sorted(map(str, want - held)))}"
        )
    if held - want - may:
        extra = sorted(map(str, held - want - may))
        out.append(f"{what} of no live record: {', '.join(extra)}")
    return out


def check(dep, rec, ports: list[dict], located: set[str]) -> list[str]:
    """Every real driver against the records `rec` (checks.Records), the
    ports' rows and the images `located` on the storage node."""
    inst, vols = rec.instances, rec.volumes
    live = {i for i, r in inst.items() if r["status"] in LIVE_INSTANCE}
    err = {i for i, r in inst.items() if r["status"] == "error"}
    gone = {i for i, r in inst.items() if r["status"] == "terminated"}
    out = []

    doms = domains(dep)
    out += _compare("libvirt domains", set(doms), live, err)
    for i in sorted(live & set(doms)):
        if doms[i] != LIVE_INSTANCE[inst[i]["status"]]:
            out.append(f"{i} is {inst[i]['status']} but its domain {doms[i]}")
    out += _compare(
        "instance directories", instance_dirs(dep), set(), live | err
    )
    left = secrets(gone)
    if left:
        out.append(f"libvirt secrets of terminated: {', '.join(sorted(left))}")

    pool = dep.conf["sta"]["pool"]
    vlive = {v for v, r in vols.items() if r["status"] in LIVE_VOLUME}
    verr = {v for v, r in vols.items() if r["status"] == "error"}
    fixed = {pool, f"{pool}/images", f"{pool}/volumes"}
    out += _compare(
        "zfs datasets",
        datasets(dep),
        fixed
        | {f"{pool}/images/{i}" for i in located}
        | {f"{pool}/volumes/{v}" for v in vlive},
        {f"{pool}/volumes/{v}" for v in verr},
    )
    exported = {v for v in vlive if vols[v]["export_iqn"]}
    out += _compare("tgt targets", targets(dep), exported, verr)
    out += _compare(
        "tgt CHAP accounts",
        accounts(dep),
        {vols[v]["chap_user"] for v in exported},
        {vols[v]["chap_user"] for v in verr if vols[v]["chap_user"]},
    )

    files = host_files(dep)
    by_net: dict[str, tuple[set, set, set, set]] = {}
    for p in ports:
        want_dhcp, want_dns, may_dhcp, may_dns = by_net.setdefault(
            p["network_id"], (set(), set(), set(), set())
        )
        entry = (p["mac_address"].lower(), p["ip_address"], p["hostname"])
        if p["instance_id"] in live:
            want_dhcp.add(entry)
            want_dns.add(entry[1:])
        elif p["instance_id"] in err:
            may_dhcp.add(entry)
            may_dns.add(entry[1:])
    procs = dnsmasqs(dep)
    for net in sorted(set(files) | set(by_net)):
        dhcp, dns = files.get(net, (set(), set()))
        want_dhcp, want_dns, may_dhcp, may_dns = by_net.get(
            net, (set(), set(), set(), set())
        )
        out += _compare(f"{net} dhcp hosts", dhcp, want_dhcp, may_dhcp)
        out += _compare(f"{net} dns hosts", dns, want_dns, may_dns)
        if want_dhcp and procs.get(net, 0) != 1:
            out.append(f"{net}: {procs.get(net, 0)} dnsmasq serve it, not 1")
    for net, n in sorted(procs.items()):
        if n > 1:
            out.append(f"{net}: {n} dnsmasq processes")
    return out
