"""What the flows read about security groups: an instance's port specs,
the hosts holding a group's members, the groups naming a group."""

import concurrent.futures
import threading

import sqlalchemy as sa

from arame.common import ids, ipam, secgroups_db
from arame.common.db import engine, models
from tests.unit.common.test_ipam import make_network


def add_group(name, rules=(), account_id="a-admin") -> str:
    gid = ids.generate("security_group")
    now = models.utcnow()
    with engine.session() as s:
        s.add(
            models.SecurityGroup(
                id=gid,
                name=name,
                account_id=account_id,
                description="",
                rules_text="",
                rules=list(rules),
                created_at=now,
                updated_at=now,
            )
        )
    return gid


def plug(net, iid, groups, ip=None) -> str:
    with engine.session() as s:
        port = ipam.allocate(s, net, iid, "h-" + iid[2:], ip)
        secgroups_db.set_membership(s, iid, groups)
        return port.ip_address


def test_port_specs_carry_network_rules_and_member_addresses(add_instance):
    net = make_network("10.50.0.0/24", segment_id=6000)
    db = add_group("db")
    web = add_group(
        "web",
        [
            {
                "protocol": "tcp",
                "from_port": 80,
                "to_port": 80,
                "cidr": "0.0.0.0/0",
            },
            {
                "protocol": "tcp",
                "from_port": 22,
                "to_port": 22,
                "group_id": db,
            },
        ],
    )
    (w1, _), (w2, _), (d1, _), (gone, _) = [
        add_instance(name=n, host="hv1") for n in ("w1", "w2", "d1", "x")
    ]
    plug(net, w1, [web], "10.50.0.10")
    plug(net, w2, [web], "10.50.0.9")
    plug(net, d1, [db], "10.50.0.20")
    plug(net, gone, [web, db], "10.50.0.30")
    with engine.session() as s:
        s.execute(
            sa.update(models.Instance)
            .where(models.Instance.id == gone)
            .values(status="terminated")
        )
    with engine.session() as s:
        (spec,) = secgroups_db.port_specs_for_instance(s, w1)
        port = ipam.ports_for_instance(s, w1)[0]
    assert spec["network"] == {
        "id": net.id,
        "segmentation": "vxlan",
        "segment_id": 6000,
        "mtu": 1450,
        "cidr": "10.50.0.0/24",
        "gateway": "10.50.0.1",
        "dns_domain": "t.internal",
    }
    assert (spec["ip"], spec["mac"], spec["hostname"]) == (
        "10.50.0.10",
        port.mac_address,
        "h-" + w1[2:],
    )
    assert spec["security_groups"] == [
        {
            "id": web,
            "rules": [
                {
                    "protocol": "tcp",
                    "from_port": 80,
                    "to_port": 80,
                    "cidr": "0.0.0.0/0",
                },
                {
                    "protocol": "tcp",
                    "from_port": 22,
                    "to_port": 22,
                    "group_id": db,
                },
            ],
            "revision": 0,  # hosts keep the newest version they are given
        }
    ]
    # Sorted as addresses, terminated members left out.
    assert spec["group_members"] == {
        web: ["10.50.0.9", "10.50.0.10"],
        db: ["10.50.0.20"],
    }


def test_instance_without_ports_has_no_specs(add_instance):
    iid, _ = add_instance()
    with engine.session() as s:
        assert secgroups_db.port_specs_for_instance(s, iid) == []


def test_hosts_with_members_groups_live_placed_members_by_host(add_instance):
    g = add_group("g")
    a, _ = add_instance(name="a", host="hv1", status="running")
    b, _ = add_instance(name="b", host="hv2", status="running")
    c, _ = add_instance(name="c", host="hv1", status="stopped")
    d, _ = add_instance(name="d", host="hv3", status="terminated")
    e, _ = add_instance(name="e", host=None)  # not placed yet
    with engine.session() as s:
        for iid in (a, b, c, d, e):
            secgroups_db.set_membership(s, iid, [g])
    with engine.session() as s:
        hosts = secgroups_db.hosts_with_members(s, g)
        live = secgroups_db.live_member_ids(s, g)
    assert hosts == {"hv1": sorted([a, c]), "hv2": [b]}
    assert live == sorted([a, b, c, e])


def test_groups_referencing_stays_in_the_account(cloud):
    target = add_group("target")
    refers = add_group(
        "refers",
        [
            {
                "protocol": "udp",
                "from_port": 1,
                "to_port": 1,
                "group_id": target,
            }
        ],
    )
    add_group(
        "plain",
        [
            {
                "protocol": "udp",
                "from_port": 1,
                "to_port": 1,
                "cidr": "0.0.0.0/0",
            }
        ],
    )
    with engine.session() as s:
        assert secgroups_db.groups_referencing(s, target) == [refers]
        assert secgroups_db.groups_referencing(s, refers) == []
        assert secgroups_db.groups_referencing(s, "sg-00000000") == []


def test_default_group_is_made_once_under_concurrency(cloud):
    start = threading.Barrier(8)

    def one(_):
        start.wait()
        return secgroups_db.ensure_default("a-admin")

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        got = set(pool.map(one, range(8)))
    assert len(got) == 1
    with engine.session() as s:
        assert (
            s.scalar(
                sa.select(sa.func.count()).select_from(models.SecurityGroup)
            )
            == 1
        )
