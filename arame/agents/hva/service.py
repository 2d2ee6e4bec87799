"""Assemble the hva daemon: a driver, a manager and an RPC server per host it
manages (one for a real hypervisor, many for the fake driver in scale tests),
and one heartbeat carrying every host's inventory."""

from oslo_log import log
from stevedore import driver as sv_driver

from arame.agents.hva import metrics, prometheus, startup
from arame.agents.hva.manager import HypervisorManager
from arame.agents.hva.rpcapi import BINARY, TOPIC
from arame.collector.rpcapi import CollectorAPI
from arame.common import rpc
from arame.common.conf import CONF
from arame.common.heartbeat import NotifyHeartbeat
from arame.common.service import PeriodicComponent, RPCServerComponent

LOG = log.getLogger(__name__)


def host_names() -> list[str]:
    if CONF.hva.driver == "fake" and CONF.fake_hva.host_count > 1:
        return [
            f"{CONF.host}-fake{n:04d}" for n in range(CONF.fake_hva.host_count)
        ]
    return [CONF.host]


def load_driver(host: str):
    mgr = sv_driver.DriverManager(
        "arame.hva.drivers",
        CONF.hva.driver,
        invoke_on_load=True,
        invoke_args=(host,),
    )
    return mgr.driver


def build_components() -> tuple[list, list[HypervisorManager]]:
    notifier = rpc.get_notifier(f"{BINARY}.{CONF.host}")
    managers, components = [], []
    stores = {}
    for host in host_names():
        drv = load_driver(host)
        drv.init_host()
        store = metrics.MetricsStore.from_conf()
        if store is not None:
            stores[host] = store
        mgr = HypervisorManager(host, drv, notifier, metrics=store)
        managers.append(mgr)
        components.append(
            RPCServerComponent(
                rpc.get_server(TOPIC, host, [mgr]), name=f"hva-{host}"
            )
        )

    def inventory():
        return {"hosts": [m.inventory() for m in managers]}

    collector = CollectorAPI()

    def power_sync():
        for m in managers:
            m.sync_power_states(collector)

    # Not for the fake driver's hundreds of hosts in scale runs: in memory,
    # they cannot drift. Kept in a state file they outlive the agent, and
    # an instance deleted meanwhile leaves a guest to report, as on a real
    # hypervisor.
    if CONF.hva.driver != "fake" or CONF.fake_hva.state_file:
        components.append(
            PeriodicComponent(
                "power-sync",
                power_sync,
                lambda: CONF.hva.power_sync_interval,
                run_first=False,
            )
        )
    components.extend(_metrics_components(managers, stores))
    if CONF.hva.driver != "fake" or CONF.fake_hva.state_file:
        # First of all: no RPC served nor heartbeat sent beside a stale
        # copy of a guest evacuated while this host was down.
        components.insert(
            0,
            startup.DestroyStaleCopies(
                managers, collector, timeout=2 * CONF.service_down_time
            ),
        )
    # The heartbeat goes last: a host the scheduler learns of must already
    # be consuming its queue (and it is the first thing stopped).
    components.append(NotifyHeartbeat(BINARY, TOPIC, extra=inventory))
    return components, managers


def _metrics_components(managers, stores) -> list:
    """Guest metrics: the sampler every [hva] metrics_interval (none when
    0), and the Prometheus endpoint on [hva] prometheus_port (none when 0)."""
    out = []
    if stores:

        def sample_metrics():
            for m in managers:
                if m.metrics is None:
                    continue
                try:
                    metrics.sample(m.driver, m.metrics)
                except Exception:
                    # One host's failure leaves the others' samples.
                    LOG.exception("reading the guests' counters on %s", m.host)

        out.append(
            PeriodicComponent(
                "metrics", sample_metrics, lambda: CONF.hva.metrics_interval
            )
        )
    if CONF.hva.prometheus_port:
        out.append(
            prometheus.PrometheusEndpoint(
                CONF.hva.prometheus_port,
                CONF.hva.prometheus_bind_host,
                prometheus.GuestCollector(stores),
            )
        )
    return out
