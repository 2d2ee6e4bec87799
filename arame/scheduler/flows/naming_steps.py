"""Taking an instance's names back off the naming nodes (delete, and a
build that is undone).

Best effort by design: a node that does not answer keeps a stale
reservation only until its next resync with the collector, which is
authoritative, so a dead naming node never blocks a delete.
"""

from arame.common import ipam
from arame.common.conf import CONF
from arame.common.db import engine as db_engine


def named_ports(s, instance_id: str) -> list[tuple[str, str]]:
    """(network id, MAC) of each of the instance's ports: what the naming
    nodes hold for it."""
    return [
        (p.network_id, p.mac_address)
        for p in ipam.ports_for_instance(s, instance_id)
    ]


def naming_cleanup(
    flow,
    nodes: list[str],
    known: list[tuple[str, str]] = (),
    ports: list[tuple[str, str]] | None = None,
) -> None:
    """`known`: (network id, MAC) pairs the flow itself registered. A build
    undone after a delete overtook it finds no ports left (the delete's
    terminate freed them) yet may have registered them after the delete's
    own cleanup: it removes what it knows it added. `ports`: named_ports,
    if the caller read it in a transaction of its own."""
    if ports is None:
        with db_engine.session() as s:
            ports = named_ports(s, flow.instance_id)
    ports = ports + [k for k in known if k not in ports]
    for node in nodes:
        try:
            with flow.step("unname", host=node):
                flow.checkpoint()
                for network_id, mac in ports:
                    flow.nsa.remove_reservation(
                        flow.ctxt,
                        node,
                        network_id,
                        mac,
                        timeout=CONF.scheduler.agent_call_timeout,
                    )
        except Exception:  # recorded as a failed step; resync repairs it
            continue
