"""RPC endpoint of the naming service agent: DHCP reservations and DNS
records of the networks served on this node.

Every argument is checked (arame.agents.nsa.records) before the driver sees
it: a bad id, MAC, address or host name is refused with nothing written.
The driver serialises changes per network.

Every operation is idempotent, so the scheduler may ask again whatever it
is not sure was done (a retry after a timeout, a flow resumed after a
crash): ensure_network of a network served with the same settings changes
nothing (other settings: brought to these); remove_network of a network
not served succeeds; add_reservation of the same MAC, address and name
changes nothing and answers the same reservation (a stale entry holding
the address or name is replaced: the controller just gave them away);
remove_reservation of an absent MAC, or on a network not served,
succeeds; sync to the same list writes and drops nothing. add_reservation
on a network not served is refused (NetworkNotFound): ensure_network
first, or (1.3) send the network with it, which serves it first (a
build's one call per port and naming node).
"""

import oslo_messaging as messaging
from oslo_log import log

from arame.agents.base import PingManager
from arame.agents.nsa import messages, records
from arame.agents.nsa.drivers.base import NamingDriver, NetworkNotFound
from arame.agents.nsa.drivers.fake import FakeDriver
from arame.agents.nsa.rpcapi import BINARY
from arame.common.conf import CONF

LOG = log.getLogger(__name__)


class NSAManager(PingManager):
    # 1.2: reservations may carry a "boot_script" (add_reservation, sync).
    # 1.3: add_reservation may carry its network, served first.
    target = messaging.Target(version="1.3")

    def __init__(self, driver: NamingDriver | None = None):
        super().__init__(BINARY)
        if driver is None:
            # The all-in-one builds the manager alone: names in memory.
            driver = FakeDriver()
        self.driver = driver

    def _network(self, network_id) -> records.Network:
        nid = records.network_id(network_id)
        net = self.driver.networks().get(nid)
        if net is None:
            raise NetworkNotFound(f"{nid} is not served here")
        return net

    def inventory(self) -> dict:
        """What the heartbeat carries: networks served and their sizes."""
        nets = []
        for nid in sorted(self.driver.networks()):
            try:
                st = self.driver.network_status(nid)
            except NetworkNotFound:
                continue  # removed meanwhile
            nets.append(
                {
                    "id": nid,
                    "reservations": st["reservations"],
                    "running": st["running"],
                }
            )
        return {
            "networks": nets,
            "reservations": sum(n["reservations"] for n in nets),
        }

    # -- RPC methods (1.1; boot scripts since 1.2; networks with
    # reservations since 1.3) ----------------------------------------------
    def ensure_network(self, ctxt, network: messages.NetworkSpec):
        net = records.parse_network(network)
        self._ensure(net)
        return self.driver.network_status(net.id)

    def _ensure(self, net: records.Network, mac: str = "") -> None:
        LOG.info(
            "ensure network %s (%s on %s)%s",
            net.id,
            net.cidr,
            net.bridge,
            f" for {mac}" if mac else "",
        )
        self.driver.ensure_network(net)

    def remove_network(self, ctxt, network_id):
        nid = records.network_id(network_id)
        LOG.info("remove network %s", nid)
        self.driver.remove_network(nid)
        return {}

    def add_reservation(
        self,
        ctxt,
        network_id,
        mac,
        ip,
        hostname,
        boot_script=None,
        network=None,
    ):
        """boot_script (1.2): an iPXE script served to the MAC over TFTP
        (a bare-metal node; see arame.common.pxe). network (1.3): the
        network's spec, served first as ensure_network does."""
        if network is None:
            net = self._network(network_id)
        else:
            net = records.parse_network(network)
            if net.id != records.network_id(network_id):
                raise records.InvalidRecord(
                    f"network {net.id} is not {network_id}"
                )
        # Checked before anything is served: a bad reservation writes
        # nothing, not even its network.
        res = records.parse_reservation(net, mac, ip, hostname, boot_script)
        if network is not None:
            self._ensure(net, res.mac)
        self.driver.add_reservation(net.id, res)
        return res.to_message()

    def remove_reservation(self, ctxt, network_id, mac):
        nid = records.network_id(network_id)
        m = records.mac(mac)
        try:
            self.driver.remove_reservation(nid, m)
        except NetworkNotFound:
            pass  # nothing served, so nothing to remove
        return {}

    def sync(
        self,
        ctxt,
        network: messages.NetworkSpec,
        reservations: list[messages.Reservation],
    ):
        net = records.parse_network(network)
        wanted = records.parse_reservations(net, reservations)
        counts = self.driver.sync(net, wanted)
        LOG.info(
            "sync %s: %d reservations, %d written, %d dropped",
            net.id,
            len(wanted),
            counts["written"],
            counts["dropped"],
        )
        return counts

    def status(self, ctxt):
        out = {}
        for nid in sorted(self.driver.networks()):
            try:
                out[nid] = self.driver.network_status(nid)
            except NetworkNotFound:
                continue
        return {"host": CONF.host, "networks": out}
