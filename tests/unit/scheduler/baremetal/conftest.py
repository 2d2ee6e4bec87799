"""Agent proxies the bare-metal flow tests control (bma, sta, nsa), and a
cloud with nodes, live agents and a network."""

import datetime as dt

import oslo_messaging as messaging
import pytest
import sqlalchemy as sa

from arame.common import ids, ipam, secretbox, tasks
from arame.common.context import admin_context
from arame.common.db import engine, models
from tests.unit.scheduler.flows.conftest import task_ends  # noqa: F401


class FakeAgent:
    """Every call is recorded as (method, server, detail); `fail[method]`
    is raised by that method."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.fail: dict[str, Exception] = {}
        self.kwargs: dict[str, dict] = {}

    def _do(self, method, server, detail, result=None, **kw):
        self.calls.append((method, server, detail))
        self.kwargs[method] = kw
        if method in self.fail:
            raise self.fail[method]
        return result if result is not None else {}

    def methods(self):
        return [c[0] for c in self.calls]


class FakeBMA(FakeAgent):
    def validate(self, ctxt, host, node, timeout):
        return self._do(
            "validate",
            host,
            node["id"],
            {"power_state": "off", "boot_devices": ["pxe"]},
            node=node,
        )

    def power_on(self, ctxt, host, node, timeout):
        return self._do(
            "power_on",
            host,
            node["id"],
            {"power_state": "on", "changed": True},
            node=node,
        )

    def power_off(self, ctxt, host, node, timeout):
        return self._do(
            "power_off",
            host,
            node["id"],
            {"power_state": "off", "changed": True},
            node=node,
        )

    def soft_power_off(self, ctxt, host, node, timeout):
        return self._do(
            "soft_power_off",
            host,
            node["id"],
            {"power_state": "off", "changed": True},
            node=node,
        )

    def reboot(self, ctxt, host, node, timeout):
        return self._do(
            "reboot",
            host,
            node["id"],
            {"power_state": "on", "changed": True},
            node=node,
        )

    def set_boot_device(
        self, ctxt, host, node, device, timeout, persistent=False
    ):
        return self._do(
            "set_boot_device",
            host,
            device,
            {"boot_device": device, "persistent": persistent},
            node=node,
        )


class FakeSTA(FakeAgent):
    def import_image(
        self, ctxt, node, image_id, source_path, sha256, size, timeout
    ):
        return self._do("import_image", node, image_id)

    def create_volume(self, ctxt, node, volume, timeout):
        return self._do("create_volume", node, volume["id"])

    def export_volume(
        self,
        ctxt,
        node,
        volume_id,
        initiator_address,
        chap_user,
        chap_secret,
        timeout,
    ):
        return self._do(
            "export_volume",
            node,
            initiator_address,
            {
                "iqn": f"iqn.2026-11.arame:{volume_id}",
                "portal": "10.9.0.1:3260",
                "lun": 1,
            },
        )

    def unexport_volume(self, ctxt, node, volume_id, timeout, force=False):
        return self._do("unexport_volume", node, volume_id)

    def delete_volume(self, ctxt, node, volume_id, timeout):
        return self._do("delete_volume", node, volume_id)


class FakeNSA(FakeAgent):
    def ensure_network(self, ctxt, node, network, timeout=60):
        return self._do("ensure_network", node, network["id"])

    def add_reservation(
        self,
        ctxt,
        node,
        network_id,
        mac,
        ip,
        hostname,
        boot_script=None,
        timeout=30,
    ):
        return self._do(
            "add_reservation", node, mac, boot_script=boot_script, ip=ip
        )

    def remove_reservation(self, ctxt, node, network_id, mac, timeout=30):
        return self._do("remove_reservation", node, mac)


def remote(exc_type: str, message: str) -> messaging.RemoteError:
    return messaging.RemoteError(exc_type, message)


@pytest.fixture
def agents():
    return FakeBMA(), FakeSTA(), FakeNSA()


@pytest.fixture
def ctxt():
    return admin_context()


@pytest.fixture
def pxe_script(monkeypatch):
    """The boot side's script, recorded (its own tests check its text)."""
    from arame.common import pxe

    seen = []

    def script(**kw):
        seen.append(kw)
        return f"#!ipxe\nsanboot {kw['iqn']}\n"

    monkeypatch.setattr(pxe, "sanboot_script", script)
    return seen


def _service(s, host, binary):
    now = models.utcnow()
    s.add(
        models.Service(
            host=host,
            binary=binary,
            topic=binary[6:],
            version="1",
            last_heartbeat_at=now,
        )
    )


@pytest.fixture
def bm_cloud(cloud, config):
    """Live bma/sta/nsa agents, a raw image, a network and a bm flavor."""
    config("service_down_time", 60)
    config("claim_attempts", 3, group="scheduler")
    with engine.session() as s:
        _service(s, "bm-agent", "arame-bma")
        _service(s, "st1", "arame-sta")
        _service(s, "ns1", "arame-nsa")
        s.add(
            models.Flavor(
                name="bm.small",
                provider="bm",
                vcpus=2,
                memory_mb=1024,
                disk_gb=10,
            )
        )
        img = models.Image(
            id=ids.generate("image"),
            name="disk",
            account_id="a-admin",
            visibility="public",
            format="raw",
            status="available",
            size_bytes=1024,
            sha256="0" * 64,
        )
        s.add(img)
        plan = ipam.make_plan("10.9.0.0/24")
        net = models.Network(
            id=ids.generate("network"),
            name="bmnet",
            account_id="a-admin",
            shared=True,
            ip_version=4,
            cidr=plan.cidr,
            gateway=plan.gateway,
            dns_domain="bm.internal",
            dhcp_ranges=plan.dhcp_ranges,
            segmentation="vxlan",
            segment_id=77,
            mtu=1450,
        )
        s.add(net)
    return {"image_id": img.id, "network_id": net.id}


def add_node(
    name="n1",
    *,
    state="available",
    cpus=4,
    memory_mb=4096,
    disk_gb=100,
    mac=None,
    resource_class=None,
    maintenance=False,
    bma_host=None,
) -> str:
    nid = ids.generate("node")
    now = models.utcnow()
    with engine.session() as s:
        s.add(
            models.BaremetalNode(
                id=nid,
                name=name,
                bmc_address="127.0.0.1",
                bmc_port=6230,
                bmc_username="admin",
                bmc_password=secretbox.seal("s3cret-pw"),
                bmc_interface="lanplus",
                bma_host=bma_host,
                macs=[mac or ipam.random_mac()],
                cpus=cpus,
                memory_mb=memory_mb,
                disk_gb=disk_gb,
                resource_class=resource_class,
                provision_state=state,
                maintenance=maintenance,
                created_at=now,
                updated_at=now,
            )
        )
    return nid


def add_bm_instance(
    bm_cloud,
    *,
    name="metal-1",
    flavor="bm.small",
    with_port=True,
    action="create",
    status="pending",
    image_id=None,
) -> tuple[str, str]:
    now = models.utcnow()
    iid = ids.generate("instance")
    with engine.session() as s:
        f = s.scalar(
            sa.select(models.Flavor).where(models.Flavor.name == flavor)
        )
        s.add(
            models.Instance(
                id=iid,
                name=name,
                hostname=name,
                account_id="a-admin",
                flavor=f.name,
                image_id=image_id or bm_cloud["image_id"],
                provider="bm",
                vcpus=f.vcpus,
                memory_mb=f.memory_mb,
                disk_gb=f.disk_gb,
                status=status,
                created_at=now,
                updated_at=now,
            )
        )
        s.flush()
        if with_port:
            ipam.allocate(
                s, s.get(models.Network, bm_cloud["network_id"]), iid, name
            )
        task = tasks.create(
            s,
            account_id="a-admin",
            resource_id=iid,
            resource_type="instance",
            action=action,
            timeout_s=600,
        )
    return iid, task.id


def add_task(resource_id, action, resource_type="node"):
    with engine.session() as s:
        task = tasks.create(
            s,
            account_id="a-admin",
            resource_id=resource_id,
            resource_type=resource_type,
            action=action,
            timeout_s=600,
        )
    return task.id


def stale(seconds=3600):
    return models.utcnow() - dt.timedelta(seconds=seconds)
