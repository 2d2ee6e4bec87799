"""The collector's answer to a storage node's "which exports should I
hold?" (sta's resync at start and after tgtd restarts)."""

import oslo_messaging as messaging
import pytest

from arame.collector import manager
from arame.collector.rpcapi import CollectorAPI
from arame.common.db import engine, models

NODE = "st1"


def instance(s, iid, host="hv1", status="running"):
    s.add(
        models.Instance(
            id=iid,
            name=iid,
            hostname=iid,
            account_id="a-exp00001",
            flavor="small",
            image_id="img-exp00001",
            vcpus=1,
            memory_mb=512,
            disk_gb=1,
            status=status,
            host=host,
        )
    )


def volume(
    s,
    vid,
    instance_id,
    node=NODE,
    status="attached",
    iqn=True,
    root=False,
    **kw,
):
    s.add(
        models.Volume(
            id=vid,
            name=vid,
            account_id="a-exp00001",
            size_gb=1,
            status=status,
            storage_node=node,
            instance_id=instance_id,
            root_of=instance_id if root else None,
            chap_user="arame-" + vid[4:],
            chap_secret="secret-" + vid[4:],
            export_iqn=f"iqn.2025-01.org.arame:{vid}" if iqn else None,
            **kw,
        )
    )


@pytest.fixture
def records(db):
    with engine.session() as s:
        s.add(models.Account(id="a-exp00001", name="exp"))
        s.add(
            models.Host(
                id="hn-exp00001",
                name="hv1",
                hypervisor_type="qemu",
                storage_address="10.0.0.5",
            )
        )
        s.add(
            models.Host(id="hn-exp00002", name="hv2", hypervisor_type="qemu")
        )  # no initiator
        instance(s, "i-exp00001")
        instance(s, "i-exp00002", status="error")
        instance(s, "i-exp00003", status="terminated")
        instance(s, "i-exp00004", host="hv2")
        s.flush()
        volume(s, "vol-exp00001", "i-exp00001", root=True)  # expected
        volume(s, "vol-exp00002", "i-exp00001")  # data: expected
        volume(s, "vol-exp00003", "i-exp00002", root=True)  # error: expected
        volume(s, "vol-exp00004", "i-exp00003", root=True)  # terminated
        volume(s, "vol-exp00005", "i-exp00001", node="st2")  # other node
        volume(s, "vol-exp00006", "i-exp00001", iqn=False)  # not exported
        volume(
            s,
            "vol-exp00007",
            "i-exp00001",
            status="deleted",
            deleted_at=models.utcnow(),
        )
        volume(s, "vol-exp00008", None, status="available")  # detached
        volume(s, "vol-exp00009", "i-exp00004")  # no address


def test_only_live_exported_volumes_of_the_node_with_chap(records):
    with engine.session() as s:
        got = manager.expected_exports(s, NODE)
    assert got == [
        {
            "volume_id": v,
            "iqn": f"iqn.2025-01.org.arame:{v}",
            "initiator_address": "10.0.0.5",
            "chap_user": "arame-" + v[4:],
            "chap_secret": "secret-" + v[4:],
            # the name an sta older than 1.3 reads
            "chap_password": "secret-" + v[4:],
        }
        for v in ("vol-exp00001", "vol-exp00002", "vol-exp00003")
    ]
    with engine.session() as s:
        assert manager.expected_exports(s, "st9") == []


def test_over_rpc_with_the_client_proxy(records, bus):
    from arame.common import rpc
    from arame.common.conf import CONF

    server = rpc.get_server(
        manager.TOPIC, CONF.host, [manager.CollectorManager()]
    )
    server.start()
    try:
        got = CollectorAPI().expected_exports({}, NODE, timeout=10)
    finally:
        server.stop()
        server.wait()
    assert [e["volume_id"] for e in got["exports"]] == [
        "vol-exp00001",
        "vol-exp00002",
        "vol-exp00003",
    ]


def test_the_manager_serves_the_version_the_client_asks():
    have = tuple(map(int, manager.CollectorManager.target.version.split(".")))
    assert have >= (1, 1)
    assert isinstance(manager.CollectorManager.target, messaging.Target)


def test_a_fenced_hosts_exports_are_left_out_until_it_reports(records):
    """An evacuation fenced hv1 (revoked its initiator everywhere): a
    storage node's rebuild must not bind its exports to hv1 again. Once
    hv1 reports after the fence (it came back, its guests moved or not),
    its remaining exports are expected again."""
    import datetime as dt

    now = models.utcnow()
    with engine.session() as s:
        s.get(models.Host, "hn-exp00001").last_report_at = now - dt.timedelta(
            minutes=5
        )
        s.add(
            models.HostEvacuation(
                host="hv1", state="evacuating", fenced_at=now
            )
        )
    with engine.session() as s:
        assert manager.expected_exports(s, NODE) == []
    with engine.session() as s:
        s.get(models.Host, "hn-exp00001").last_report_at = now + dt.timedelta(
            seconds=1
        )
    with engine.session() as s:
        got = [e["volume_id"] for e in manager.expected_exports(s, NODE)]
    assert got == ["vol-exp00001", "vol-exp00002", "vol-exp00003"]
