"""Assembling the sta daemon from [sta] options."""

from arame.agents.sta import service
from arame.agents.sta.backends.fake import FakeBackend
from arame.agents.sta.backends.zfs import ZFSBackend
from arame.agents.sta.targets.fake import FakeTarget
from arame.agents.sta.targets.tgt import TgtTarget

GiB = 1024**3


def test_defaults_are_the_fakes(sta_conf):
    from arame.common.conf import CONF

    assert (CONF.sta.backend, CONF.sta.target) == ("fake", "fake")
    assert CONF.sta.volume_mode == "file"


def test_drivers_are_built_from_the_options(sta_conf):
    from arame.common.conf import CONF

    sta_conf("pool", "tank", group="sta")
    sta_conf("volume_mode", "zvol", group="sta")
    sta_conf("iscsi_address", "192.0.2.10", group="sta")
    sta_conf("iscsi_port", 3261, group="sta")
    sta_conf("iqn_domain", "com.example", group="sta")
    sta_conf("tgt_control_port", 5, group="sta")
    z = ZFSBackend.from_config(CONF)
    assert (z.pool, z.volume_mode, z.volumes) == (
        "tank",
        "zvol",
        "tank/volumes",
    )
    t = TgtTarget.from_config(CONF)
    assert t.connection("vol-aaaa0001") == {
        "iqn": "iqn.2025-01.com.example:vol-aaaa0001",
        "portal": "192.0.2.10:3261",
        "lun": 1,
    }
    assert t.control_port == 5
    sta_conf("size_gb", 7, group="fake_sta")
    assert FakeBackend.from_config(CONF).capacity()["size_bytes"] == 7 * GiB
    assert FakeTarget.from_config(CONF).portal == "192.0.2.10:3261"


def test_components_rpc_server_then_heartbeat_with_capacity(
    sta_conf, bus, monkeypatch
):
    loaded = []

    def load(namespace, name):
        loaded.append((namespace, name))
        cls = {service.BACKENDS: FakeBackend, service.TARGETS: FakeTarget}[
            namespace
        ]
        from arame.common.conf import CONF

        return cls.from_config(CONF)

    monkeypatch.setattr(service, "_load", load)
    sta_conf("host", "st1")
    components, _ = service.build_components()
    assert loaded == [(service.BACKENDS, "fake"), (service.TARGETS, "fake")]
    # The image data endpoint, the RPC server, the export keeper (tgtd
    # keeps its targets in memory only), the heartbeat.
    assert [type(c).__name__ for c in components] == [
        "DataServer",
        "RPCServerComponent",
        "PeriodicComponent",
        "NotifyHeartbeat",
    ]
    extra = components[-1].extra()
    assert extra["data_url"] == "http://127.0.0.1:9292"
    assert extra["storage"]["pool"] == "arame"
    assert set(extra["storage"]) >= {
        "size_bytes",
        "free_bytes",
        "allocated_bytes",
        "provisioned_bytes",
    }
