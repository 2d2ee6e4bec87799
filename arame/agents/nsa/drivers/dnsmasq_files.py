"""A network's state directory on disk: every write atomic (a temporary
file in tmp/, then rename), so dnsmasq never reads half a line.

Reservations are read back from the dhcp lines (the base file, then the
per-MAC files added since), so an agent that restarts serves again what it
served without asking anyone first.
"""

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile

from oslo_log import log

from arame.agents.nsa import records
from arame.agents.nsa.drivers import dnsmasq_config as config
from arame.agents.nsa.records import Network, Reservation
from arame.common import ids

LOG = log.getLogger(__name__)

# dnsmasq drops its privileges: it must still read everything here.
DIR_MODE = 0o755
FILE_MODE = 0o644


class NetworkDir:
    def __init__(self, state_path: str, network_id: str):
        self.network_id = records.network_id(network_id)
        self.paths = config.Paths(os.path.join(state_path, network_id))

    def exists(self) -> bool:
        return os.path.isdir(self.paths.root)

    def prepare(self) -> None:
        p = self.paths
        for d in (
            p.root,
            p.dhcp_hosts_dir,
            p.hosts_dir,
            p.tmp_dir,
            p.tftp_root,
        ):
            os.makedirs(d, mode=DIR_MODE, exist_ok=True)
            os.chmod(d, DIR_MODE)

    def prepare_tftp(self, undionly_source: str | None) -> bool:
        """The TFTP root's fixed files: boot.ipxe, and undionly.kpxe when
        the source exists. True if undionly.kpxe is served."""
        p = self.paths
        self.write(
            os.path.join(p.tftp_root, config.BOOT_FILE), config.BOOT_IPXE
        )
        target = os.path.join(p.tftp_root, config.UNDI_FILE)
        if not undionly_source or not os.path.isfile(undionly_source):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)
            return False
        with open(undionly_source, "rb") as f:
            self.write(target, f.read())
        return True

    def destroy(self) -> None:
        shutil.rmtree(self.paths.root, ignore_errors=True)

    # -- atomic writes -----------------------------------------------------
    def write(self, path: str, text: str | bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.paths.tmp_dir, prefix=".w-")
        try:
            with os.fdopen(fd, "wb" if isinstance(text, bytes) else "w") as f:
                f.write(text)
            os.chmod(tmp, FILE_MODE)
            os.rename(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    # -- the network itself ------------------------------------------------
    def save_network(self, net: Network, bridge_created: bool) -> None:
        self.write(
            self.paths.network_json,
            json.dumps(
                {
                    "network": net.to_message(),
                    "bridge_created": bridge_created,
                },
                indent=1,
                sort_keys=True,
            ),
        )

    def load_network(self) -> tuple[Network, bool] | None:
        try:
            with open(self.paths.network_json) as f:
                data = json.load(f)
            return records.parse_network(data["network"]), bool(
                data.get("bridge_created")
            )
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as e:
            LOG.error(
                "%s: unreadable %s: %s",
                self.network_id,
                self.paths.network_json,
                e,
            )
            return None

    # -- reservations ------------------------------------------------------
    def write_host(self, net: Network, res: Reservation) -> None:
        """One reservation added since the last reload: its DNS record
        first, so the name answers once the address is handed out."""
        name = config.host_file_name(res.mac)
        self.write(
            os.path.join(self.paths.hosts_dir, name),
            config.hosts_line(net, res),
        )
        self.write(
            os.path.join(self.paths.dhcp_hosts_dir, name),
            config.dhcp_line(res),
        )

    def _discard(self, directory: str, name: str) -> None:
        """Take a file out of a watched directory: moved out first, then
        deleted. dnsmasq (2.90) handles a deletion in --hostsdir at once,
        and at a cost in proportion to the whole network (~1.7 ms at
        10,000 hosts); it does not watch files moved out. The reload that
        follows every removal forgets their names anyway."""
        gone = os.path.join(self.paths.tmp_dir, f".gone-{name}-{os.getpid()}")
        try:
            os.rename(os.path.join(directory, name), gone)
        except FileNotFoundError:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(gone)

    def remove_host(self, mac: str) -> None:
        name = config.host_file_name(mac)
        for d in (self.paths.dhcp_hosts_dir, self.paths.hosts_dir):
            self._discard(d, name)

    # -- boot scripts (TFTP) ------------------------------------------------
    def write_script(self, res: Reservation) -> None:
        """The reservation's iPXE script, or none if it has none. dnsmasq
        reads the file at each TFTP request: no signal needed."""
        path = os.path.join(
            self.paths.tftp_root, config.script_file_name(res.mac)
        )
        if res.boot_script is None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        else:
            self.write(path, res.boot_script)

    def remove_script(self, mac: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(
                os.path.join(
                    self.paths.tftp_root, config.script_file_name(mac)
                )
            )

    def scripts(self) -> dict[str, str]:
        """mac -> script, of the files in the TFTP root."""
        out = {}
        with contextlib.suppress(FileNotFoundError):
            for name in sorted(os.listdir(self.paths.tftp_root)):
                mac = config.script_mac(name)
                if mac is None:
                    continue
                path = os.path.join(self.paths.tftp_root, name)
                with (
                    contextlib.suppress(OSError, UnicodeDecodeError),
                    open(path) as f,
                ):
                    out[mac] = f.read()
        return out

    def sync_scripts(self, reservations: list[Reservation]) -> None:
        """Exactly the scripts of these reservations in the TFTP root: a
        script nobody holds any more (a resync, an edit by hand) goes."""
        wanted = {r.mac: r for r in reservations if r.boot_script is not None}
        have = self.scripts()
        for mac in set(have) - set(wanted):
            self.remove_script(mac)
        for mac, res in wanted.items():
            if have.get(mac) != res.boot_script:
                self.write_script(res)

    def host_files(self) -> dict[str, list[str]]:
        """{"dhcp-hosts.d": [names], "hosts.d": [names]} (tests, status)."""
        return {
            os.path.basename(d): sorted(
                n for n in os.listdir(d) if not n.startswith(".")
            )
            for d in (self.paths.dhcp_hosts_dir, self.paths.hosts_dir)
        }

    def fold(self, net: Network, reservations: list[Reservation]) -> None:
        """Every reservation into the base files, the watched directories
        emptied: what dnsmasq reads on its next (re)load."""
        ordered = sorted(reservations, key=lambda r: r.ip)
        self.write(
            self.paths.dhcp_hosts,
            "".join(config.dhcp_line(r) for r in ordered),
        )
        self.write(
            self.paths.hosts,
            "".join(config.hosts_line(net, r) for r in ordered),
        )
        for d in (self.paths.dhcp_hosts_dir, self.paths.hosts_dir):
            for name in os.listdir(d):
                self._discard(d, name)

    def load_reservations(self, net: Network) -> list[Reservation]:
        """The base file, then the per-MAC files (newer) over it. Lines
        that do not parse, or no longer fit the network, are dropped."""
        found: dict[str, Reservation] = {}
        sources = [self.paths.dhcp_hosts] + [
            os.path.join(self.paths.dhcp_hosts_dir, n)
            for n in sorted(os.listdir(self.paths.dhcp_hosts_dir))
            if not n.startswith(".")
        ]
        for path in sources:
            try:
                with open(path) as f:
                    lines = f.read().splitlines()
            except FileNotFoundError:
                continue
            for line in lines:
                try:
                    m, ip, name = line.split(",")
                    res = records.parse_reservation(net, m, ip, name)
                except (ValueError, records.InvalidRecord):
                    LOG.warning(
                        "%s: dropping %r from %s", self.network_id, line, path
                    )
                    continue
                found[res.mac] = res
        scripts = self.scripts()
        out = []
        for res in found.values():
            try:
                script = records.boot_script(scripts.get(res.mac))
            except records.InvalidRecord:
                LOG.warning(
                    "%s: dropping the unreadable boot script of %s",
                    self.network_id,
                    res.mac,
                )
                script = None
            out.append(dataclasses.replace(res, boot_script=script))
        return out

    def leases(self) -> dict[str, tuple[str, str | None]]:
        """mac -> (ip, client id or None) from dnsmasq's lease file."""
        out = {}
        try:
            with open(self.paths.leases) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 5:
                        out[parts[1].lower()] = (
                            parts[2],
                            None if parts[4] == "*" else parts[4],
                        )
        except FileNotFoundError:
            pass
        return out


def network_ids(state_path: str) -> list[str]:
    """The networks with a state directory under state_path."""
    try:
        names = os.listdir(state_path)
    except FileNotFoundError:
        return []
    return sorted(
        n
        for n in names
        if ids.is_valid("network", n)
        and os.path.isdir(os.path.join(state_path, n))
    )
