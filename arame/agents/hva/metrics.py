"""Guest metrics on one hypervisor host: rates from two readings of raw
counters, and a bounded ring of recent samples per guest, in memory.

The driver reads the counters (`guest_stats()`, see drivers/base.py); every
`[hva] metrics_interval` the agent hands them to a MetricsStore, which
turns each guest's reading and the one before into a Sample. Nothing is
written to disk: a restarted agent starts its history afresh, and what
outlives it is Prometheus' copy (prometheus.py).
"""

import collections
import dataclasses
import math
import threading
import time

from arame.common.conf import CONF

# Raw counters that only grow while a guest runs, and the rate each gives.
_BYTE_RATES = (
    ("disk_read_bytes", "disk_read_bps"),
    ("disk_write_bytes", "disk_write_bps"),
    ("net_rx_bytes", "net_rx_bps"),
    ("net_tx_bytes", "net_tx_bps"),
)


@dataclasses.dataclass(frozen=True)
class Sample:
    at: float  # seconds since the epoch, the end of the interval
    cpu_percent: float  # of the guest's vcpus: 100 is all of them busy
    memory_used_mb: float
    memory_mb: float
    disk_read_bps: float
    disk_write_bps: float
    net_rx_bps: float
    net_tx_bps: float

    def to_message(self) -> dict:
        return dataclasses.asdict(self)


def _grown(cur: float, prev: float) -> float:
    # A counter that went back: the guest's process started again (a
    # reboot by HA, a stop and start between two readings) with counters
    # from zero, so all it counted is its value now.
    return cur - prev if cur >= prev else cur


def rates(prev: dict, cur: dict, seconds: float, at: float) -> Sample | None:
    """The sample between two readings `seconds` apart; None when time did
    not move forward (a clock set back)."""
    if not seconds > 0:
        return None
    vcpus = max(1, int(cur.get("vcpus") or 1))
    cpu_ns = _grown(cur["cpu_time_ns"], prev["cpu_time_ns"])
    # cpu.time counts QEMU's own threads too: a busy guest may show a
    # little over its vcpus, which reads as 100.
    cpu = min(100.0, 100.0 * cpu_ns / (seconds * 1e9 * vcpus))
    byte_rates = {
        rate: _grown(cur[counter], prev[counter]) / seconds
        for counter, rate in _BYTE_RATES
    }
    return Sample(
        at=at,
        cpu_percent=round(cpu, 3),
        memory_used_mb=round(cur["memory_used_mb"], 1),
        memory_mb=round(cur["memory_mb"], 1),
        **{k: round(v, 1) for k, v in byte_rates.items()},
    )


@dataclasses.dataclass
class _Series:
    labels: dict
    samples: collections.deque
    # The last reading and when it was taken; None after a reading that
    # missed the guest (stopped): no rate spans a stop.
    last: dict | None = None
    last_at: float = 0.0


class MetricsStore:
    """Every guest's recent samples on one host. `record` runs on the
    sampling thread, the readers on RPC and HTTP threads."""

    def __init__(self, interval: float, retention: float, clock=time.time):
        self.interval = interval
        self.retention = retention
        self.clock = clock
        # Bounded even if readings come faster than the interval says.
        self._maxlen = max(2, math.ceil(retention / interval) + 1)
        self._series: dict[str, _Series] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_conf(cls) -> "MetricsStore | None":
        """None when sampling is off ([hva] metrics_interval 0)."""
        c = CONF.hva
        if not c.metrics_interval:
            return None
        return cls(c.metrics_interval, c.metrics_retention)

    def record(self, readings: dict[str, dict]) -> None:
        """One reading of every running guest: instance id -> counters
        (with its `account_id` and `unit_id`)."""
        now = self.clock()
        with self._lock:
            for iid, raw in readings.items():
                s = self._series.get(iid)
                if s is None:
                    s = self._series[iid] = _Series(
                        {}, collections.deque(maxlen=self._maxlen)
                    )
                s.labels = {
                    "account": raw.get("account_id") or "",
                    "unit": raw.get("unit_id") or "",
                }
                if s.last is not None:
                    sample = rates(s.last, raw, now - s.last_at, now)
                    if sample is not None:
                        s.samples.append(sample)
                s.last, s.last_at = raw, now
            cutoff = now - self.retention
            for iid, s in list(self._series.items()):
                if iid not in readings:
                    s.last = None
                while s.samples and s.samples[0].at < cutoff:
                    s.samples.popleft()
                if not s.samples and s.last is None:
                    # Gone (or stopped) longer than anything is kept.
                    del self._series[iid]

    def samples(self, instance_id: str, since: float | None = None) -> list:
        """The samples after `since` (seconds since the epoch), oldest
        first."""
        with self._lock:
            s = self._series.get(instance_id)
            found = list(s.samples) if s is not None else []
        if since is not None:
            found = [x for x in found if x.at > since]
        return found

    def current(self) -> list[tuple[str, dict, dict | None, Sample | None]]:
        """(instance id, labels, last reading, last sample) per guest: what
        the Prometheus endpoint shows. The reading is None for a guest that
        is not running: its counters are not shown then."""
        with self._lock:
            return [
                (
                    iid,
                    dict(s.labels),
                    s.last,
                    s.samples[-1] if s.samples else None,
                )
                for iid, s in sorted(self._series.items())
            ]

    def report(self, instance_id: str, since: float | None) -> dict:
        """The answer of hva's get_metrics."""
        return {
            "instance_id": instance_id,
            "interval": self.interval,
            "samples": [
                x.to_message() for x in self.samples(instance_id, since)
            ],
        }


def sample(driver, store: MetricsStore) -> None:
    """One round: read the driver's counters into the store."""
    store.record(driver.guest_stats())
