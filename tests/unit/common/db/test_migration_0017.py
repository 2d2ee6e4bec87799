"""Migration 0017: networks made before routers get a DHCP address of
their own, out of their ranges and of every instance's way."""

import json

import sqlalchemy as sa

from arame.common.db import migration


def _network(conn, nid, cidr, gateway, ranges, **kw):
    row = {
        "id": nid,
        "name": nid,
        "account_id": "a-admin",
        "shared": False,
        "ip_version": 4,
        "cidr": cidr,
        "gateway": gateway,
        "dns_domain": "t.lab",
        "dhcp_ranges": json.dumps(ranges),
        "segmentation": "vxlan",
        "segment_id": int(nid[-2:]),
        "mtu": 1450,
        "external": False,
        "created_at": "2026-01-01 00:00:00",
        "updated_at": "2026-01-01 00:00:00",
        **kw,
    }
    conn.execute(
        sa.text(
            f"INSERT INTO networks ({', '.join(row)}) "
            f"VALUES ({', '.join(':' + k for k in row)})"
        ),
        row,
    )


def test_legacy_networks_get_a_free_address_out_of_their_ranges(
    parsed_conf, tmp_path
):
    url = f"sqlite:///{tmp_path}/m.db"
    migration.db_sync(url, revision="0016")
    eng = sa.create_engine(url)
    try:
        with eng.begin() as conn:
            # A bare SQLite engine: no foreign keys enforced, so the rows
            # are only what the migration reads.
            # The default plan of old: every host but the gateway.
            _network(
                conn, "nw-aaaaaa01", "10.1.0.0/24", "10.1.0.1",
                [["10.1.0.2", "10.1.0.254"]],
            )  # fmt: skip
            # Its last host address held by an instance: the one below.
            _network(
                conn, "nw-aaaaaa02", "10.2.0.0/24", "10.2.0.1",
                [["10.2.0.2", "10.2.0.254"]],
            )  # fmt: skip
            conn.execute(
                sa.text(
                    "INSERT INTO ports (network_id, instance_id, ip_address, "
                    "mac_address, hostname, created_at) VALUES "
                    "('nw-aaaaaa02', 'i-00000001', '10.2.0.254', "
                    "'52:54:00:00:00:01', 'x', '2026-01-01')"
                )
            )
            # Made since 0016: left as it is.
            _network(
                conn, "nw-aaaaaa03", "10.3.0.0/24", "10.3.0.1",
                [["10.3.0.2", "10.3.0.253"]], dhcp_address="10.3.0.254",
            )  # fmt: skip
        migration.db_sync(url, revision="0017")
        with eng.connect() as conn:
            got = {
                r.id: (r.dhcp_address, json.loads(r.dhcp_ranges))
                for r in conn.execute(
                    sa.text(
                        "SELECT id, dhcp_address, dhcp_ranges FROM networks"
                    )
                )
            }
    finally:
        eng.dispose()
    assert got == {
        "nw-aaaaaa01": ("10.1.0.254", [["10.1.0.2", "10.1.0.253"]]),
        "nw-aaaaaa02": (
            "10.2.0.253",
            [["10.2.0.2", "10.2.0.252"], ["10.2.0.254", "10.2.0.254"]],
        ),
        "nw-aaaaaa03": ("10.3.0.254", [["10.3.0.2", "10.3.0.253"]]),
    }
