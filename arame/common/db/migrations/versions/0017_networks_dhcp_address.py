"""networks made before routers get a DHCP address of their own

Before 0016 dnsmasq listened on a network's gateway, which a router now
needs. A tenant network still without a dhcp_address gets the address a
new network would: its last host address, or the highest one below that
no instance holds and is not the gateway; the address leaves the DHCP
ranges (a range it ends or starts shrinks, one it sits inside splits).
The naming agents move their bridge's address at their next resync or
change of the network. A network with every host address taken keeps its
DHCP server on the gateway (NULL), as before.

Revision ID: 0017
Revises: 0016
"""

import ipaddress
import json

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# How far below the last host address to look for a free one.
_SEARCH = 256


def _without(ranges: list, addr: int) -> list:
    out = []
    for start, end in ranges:
        s, e = (int(ipaddress.ip_address(x)) for x in (start, end))
        if not s <= addr <= e:
            out.append([start, end])
            continue
        if s < addr:
            out.append([start, str(ipaddress.ip_address(addr - 1))])
        if addr < e:
            out.append([str(ipaddress.ip_address(addr + 1)), end])
    return out


def upgrade():
    bind = op.get_bind()
    nets = bind.execute(
        sa.text(
            "SELECT id, cidr, gateway, dhcp_ranges FROM networks "
            "WHERE dhcp_address IS NULL AND external = :f AND ip_version = 4"
        ),
        {"f": False},
    ).fetchall()
    for net_id, cidr, gateway, ranges in nets:
        net = ipaddress.ip_network(cidr)
        if net.num_addresses < 4:
            continue
        taken = {
            int(ipaddress.ip_address(r[0]))
            for r in bind.execute(
                sa.text("SELECT ip_address FROM ports WHERE network_id = :n"),
                {"n": net_id},
            )
        }
        taken.add(int(ipaddress.ip_address(gateway)))
        last = int(net.broadcast_address) - 1
        first = int(net.network_address) + 1
        pick = next(
            (
                a
                for a in range(last, max(first, last - _SEARCH) - 1, -1)
                if a not in taken
            ),
            None,
        )
        if pick is None:
            continue
        if isinstance(ranges, str):
            ranges = json.loads(ranges)
        bind.execute(
            sa.text(
                "UPDATE networks SET dhcp_address = :d, dhcp_ranges = :r "
                "WHERE id = :n"
            ),
            {
                "d": str(ipaddress.ip_address(pick)),
                "r": json.dumps(_without(ranges, pick)),
                "n": net_id,
            },
        )


def downgrade():
    # The addresses stay out of the ranges: giving one back could hand a
    # guest the address a naming agent still listens on.
    pass
