"""What the agent tells the controller about power on its own: the last
state seen of each node, and a `node.power` notification when it changes
(someone pressed the button, the BMC went away, a power operation ended).

Payload: {"node_id", "host", "power_state": "on" | "off" | "error"}, plus
"reason" with "error" (the BMC did not answer, refused the password...:
the words of the typed error, fit for the node's status_reason).

`fetch_nodes() -> [node]` (the same node objects as in the RPC calls,
credentials included) is injected: the daemon wires it to the controller,
tests pass a function. Every `[bma] power_sync_interval` the sync reads
each node's state, a few at once; a node busy with an operation is left
for the next round (the operation reports its own outcome).
"""

import threading
from concurrent import futures

from oslo_log import log

from arame.agents.bma import checks, errors

LOG = log.getLogger(__name__)

EVENT = "node.power"
POWER_ERROR = "error"


class PowerStates:
    """Last state seen per node; notifies on change only (the first
    sight of a node is a change)."""

    def __init__(self, notifier=None, host: str = ""):
        self.notifier = notifier
        self.host = host
        self._lock = threading.Lock()
        self._last: dict[str, tuple[str, str | None]] = {}

    def observe(
        self, node_id: str, state: str, reason: str | None = None
    ) -> bool:
        with self._lock:
            if self._last.get(node_id) == (state, reason):
                return False
            self._last[node_id] = (state, reason)
        payload = {"node_id": node_id, "host": self.host, "power_state": state}
        if reason:
            payload["reason"] = reason
        LOG.info(
            "node %s: power %s%s",
            node_id,
            state,
            f" ({reason})" if reason else "",
        )
        if self.notifier is not None:
            self.notifier.info({}, EVENT, payload)
        return True

    def last(self, node_id: str) -> str | None:
        with self._lock:
            seen = self._last.get(node_id)
        return seen[0] if seen else None

    def keep_only(self, node_ids) -> None:
        """Forget the nodes no longer ours (seen again: notified again)."""
        keep = set(node_ids)
        with self._lock:
            for nid in [n for n in self._last if n not in keep]:
                del self._last[nid]

    def __len__(self) -> int:
        with self._lock:
            return len(self._last)


class PowerSync:
    def __init__(self, manager, fetch_nodes, workers: int = 8):
        self.manager = manager
        self.fetch_nodes = fetch_nodes
        self.workers = workers

    def run_once(self) -> dict:
        """{"on": [ids], "off": [ids], "busy": [ids], "failed": {id: why}}
        (ids that changed or not; "failed" also lists malformed nodes)."""
        out = {"on": [], "off": [], "busy": [], "failed": {}}
        try:
            nodes = list(self.fetch_nodes())
        except Exception as e:  # noqa: BLE001  (whatever it is: next round)
            LOG.warning("power sync: node list not fetched: %s", e)
            out["failed"]["*"] = str(e)
            return out
        bmcs = []
        for node in nodes:
            try:
                bmcs.append(checks.node(node, self.manager.default_interface))
            except errors.InvalidNode as e:
                nid = node.get("id") if isinstance(node, dict) else None
                LOG.error("power sync: node %r skipped: %s", nid, e)
                out["failed"][str(nid)] = str(e)
        self.manager.power_states.keep_only(b.node_id for b in bmcs)
        if not bmcs:
            return out
        with futures.ThreadPoolExecutor(
            min(self.workers, len(bmcs)), thread_name_prefix="bma-power-sync"
        ) as pool:
            results = pool.map(self._poll, bmcs)
            for bmc, (state, reason) in zip(bmcs, results, strict=True):
                if state is None:
                    out["busy"].append(bmc.node_id)
                elif state == POWER_ERROR:
                    out["failed"][bmc.node_id] = reason
                else:
                    out[state].append(bmc.node_id)
        return out

    def _poll(self, bmc) -> tuple[str | None, str | None]:
        try:
            return self.manager.poll_power_state(bmc)
        except Exception as e:  # one node must not stop the others
            LOG.exception("power sync of %s failed", bmc)
            return POWER_ERROR, str(e)
