"""hva's Prometheus endpoint: every running guest's counters, labelled
host, instance, account and unit, on `[hva] prometheus_port`.

Counters, as Prometheus wants them (`rate()` over a window makes the
rates, and survives a guest's restart), and the memory as gauges. Values
come from the last reading of the sampler (metrics.py): a scrape costs no
libvirt call, and a guest that stopped leaves the exposition at once.
"""

import prometheus_client
from oslo_log import log
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

LOG = log.getLogger(__name__)

LABELS = ("host", "instance", "account", "unit")

# (name, help, type, the reading's key, factor to the base unit)
SERIES = (
    (
        "arame_guest_cpu_seconds",
        "CPU time the guest's process used (all vcpus and QEMU's threads).",
        CounterMetricFamily,
        "cpu_time_ns",
        1e-9,
    ),
    (
        "arame_guest_vcpus",
        "vcpus of the guest.",
        GaugeMetricFamily,
        "vcpus",
        1,
    ),
    (
        "arame_guest_memory_bytes",
        "Memory the guest has (its balloon's current size).",
        GaugeMetricFamily,
        "memory_mb",
        2**20,
    ),
    (
        "arame_guest_memory_used_bytes",
        "Memory in use in the guest (total less available, as its balloon "
        "driver reports; QEMU's resident memory without one).",
        GaugeMetricFamily,
        "memory_used_mb",
        2**20,
    ),
    (
        "arame_guest_disk_read_bytes",
        "Bytes the guest read from all its disks.",
        CounterMetricFamily,
        "disk_read_bytes",
        1,
    ),
    (
        "arame_guest_disk_written_bytes",
        "Bytes the guest wrote to all its disks.",
        CounterMetricFamily,
        "disk_write_bytes",
        1,
    ),
    (
        "arame_guest_network_receive_bytes",
        "Bytes the guest received on all its interfaces.",
        CounterMetricFamily,
        "net_rx_bytes",
        1,
    ),
    (
        "arame_guest_network_transmit_bytes",
        "Bytes the guest sent on all its interfaces.",
        CounterMetricFamily,
        "net_tx_bytes",
        1,
    ),
)


class GuestCollector:
    """A prometheus_client collector over the hosts' MetricsStores."""

    def __init__(self, stores: dict):
        """stores: host name -> metrics.MetricsStore."""
        self.stores = stores

    def collect(self):
        families = [
            (kind(name, text, labels=LABELS), key, factor)
            for name, text, kind, key, factor in SERIES
        ]
        for host, store in sorted(self.stores.items()):
            for iid, labels, reading, _sample in store.current():
                if reading is None:
                    continue  # not running now
                values = (host, iid, labels["account"], labels["unit"])
                for family, key, factor in families:
                    family.add_metric(values, reading[key] * factor)
        for family, _key, _factor in families:
            yield family


class PrometheusEndpoint:
    """The HTTP server as a component of the daemon (its own thread)."""

    name = "prometheus"

    def __init__(self, port: int, bind_host: str, collector: GuestCollector):
        self.port = port
        self.bind_host = bind_host
        self.registry = prometheus_client.CollectorRegistry()
        # The agent's own process too (CPU, memory, open files), as the
        # API's /metrics has.
        prometheus_client.ProcessCollector(registry=self.registry)
        prometheus_client.PlatformCollector(registry=self.registry)
        self.registry.register(collector)
        self._server = None

    def start(self) -> None:
        self._server, _thread = prometheus_client.start_http_server(
            self.port, self.bind_host, registry=self.registry
        )
        LOG.info(
            "Prometheus endpoint on %s:%s/metrics", self.bind_host, self.port
        )

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
