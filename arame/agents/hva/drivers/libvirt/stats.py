"""Every running guest's counters in one libvirt call (bulk domain stats).

`getAllDomainStats` answers for every active domain of the libvirtd at
once, cheaper than a call per guest and per device. One libvirtd may serve
several agents (a lab runs a deployment per test): a domain is this host's
when its metadata says so, read once per domain (by UUID, a new one per
definition) together with the labels the metrics carry.
"""

import libvirt
from oslo_log import log

from arame.agents.hva.drivers.libvirt import config as xmlconf
from arame.common import ids
from arame.common.conf import CONF

LOG = log.getLogger(__name__)

STATS = (
    libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
    | libvirt.VIR_DOMAIN_STATS_BALLOON
    | libvirt.VIR_DOMAIN_STATS_VCPU
    | libvirt.VIR_DOMAIN_STATS_INTERFACE
    | libvirt.VIR_DOMAIN_STATS_BLOCK
)


def _sum(rec: dict, kind: str, field: str) -> int:
    return sum(
        int(rec.get(f"{kind}.{i}.{field}", 0))
        for i in range(int(rec.get(f"{kind}.count", 0)))
    )


def counters(rec: dict) -> dict:
    """One domain's stats record -> the raw counters of guest_stats (the
    balloon's figures are KiB)."""
    memory_kib = rec.get("balloon.current") or rec.get("balloon.maximum", 0)
    available = rec.get("balloon.available")
    # MemAvailable when the guest reports it (page cache is not "used"),
    # else MemFree; both need the guest's balloon driver and a stats
    # period. Without them, what QEMU holds on the host stands in.
    free = rec.get("balloon.usable", rec.get("balloon.unused"))
    if available is not None and free is not None:
        used_kib = max(0, available - free)
    else:
        used_kib = min(rec.get("balloon.rss", 0), memory_kib)
    return {
        "cpu_time_ns": int(rec.get("cpu.time", 0)),
        "vcpus": int(rec.get("vcpu.current", 1)),
        "memory_mb": memory_kib / 1024,
        "memory_used_mb": used_kib / 1024,
        "disk_read_bytes": _sum(rec, "block", "rd.bytes"),
        "disk_write_bytes": _sum(rec, "block", "wr.bytes"),
        "net_rx_bytes": _sum(rec, "net", "rx.bytes"),
        "net_tx_bytes": _sum(rec, "net", "tx.bytes"),
    }


class GuestStats:
    def __init__(self, host: str, conn):
        """conn: a callable answering the driver's connection."""
        self.host = host
        self._conn = conn
        # Domain UUID -> its labels, or None for another agent's domain.
        self._labels: dict[str, dict | None] = {}
        # (UUID, domain id): guests asked for balloon stats since they
        # started (the period is a property of the running QEMU).
        self._asked: set[tuple[str, int]] = set()

    def read(self) -> dict[str, dict]:
        found = self._conn().getAllDomainStats(
            STATS, libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE
        )
        out, seen = {}, set()
        for dom, rec in found:
            try:
                uuid = dom.UUIDString()
                labels = self._labels_of(dom, uuid)
            except libvirt.libvirtError:
                continue  # undefined meanwhile
            seen.add(uuid)
            if labels is None:
                continue
            if "balloon.unused" not in rec:
                self._ask_balloon_stats(dom, uuid)
            out[dom.name()] = {**counters(rec), **labels}
        self._labels = {u: v for u, v in self._labels.items() if u in seen}
        self._asked = {a for a in self._asked if a[0] in seen}
        return out

    def _labels_of(self, dom, uuid: str) -> dict | None:
        if uuid not in self._labels:
            labels = None
            if ids.is_valid("instance", dom.name()):
                md = xmlconf.read_metadata(dom.XMLDesc())
                if md.get("host") == self.host:
                    labels = {
                        "account_id": md.get("account_id", ""),
                        "unit_id": md.get("unit_id", ""),
                    }
            self._labels[uuid] = labels
        return self._labels[uuid]

    def _ask_balloon_stats(self, dom, uuid: str) -> None:
        """Ask QEMU to poll the guest's balloon driver, once per start of
        the guest; the guest's view of its memory shows from the next
        reading (never, if it has no balloon driver)."""
        key = (uuid, dom.ID())
        if key in self._asked:
            return
        self._asked.add(key)
        try:
            dom.setMemoryStatsPeriod(
                max(1, round(CONF.hva.metrics_interval)),
                libvirt.VIR_DOMAIN_AFFECT_LIVE,
            )
        except libvirt.libvirtError as e:
            LOG.debug("%s: no balloon statistics: %s", dom.name(), e)
