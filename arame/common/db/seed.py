"""First records of a cloud: the admin account and user, the default flavors,
the test image and the shared network. Every function is idempotent."""

import sqlalchemy as sa

from arame.common import ids, ipam
from arame.common.db import engine as db_engine
from arame.common.db import models
from arame.common.passwords import hash_password

ADMIN_ACCOUNT = "a-admin"

FLAVORS = [
    {
        "name": "small",
        "provider": "vm",
        "vcpus": 1,
        "memory_mb": 512,
        "disk_gb": 5,
    },
    {
        "name": "medium",
        "provider": "vm",
        "vcpus": 2,
        "memory_mb": 2048,
        "disk_gb": 20,
    },
    {
        "name": "large",
        "provider": "vm",
        "vcpus": 4,
        "memory_mb": 8192,
        "disk_gb": 80,
    },
]

TEST_IMAGE = {"name": "arame-test", "format": "kernel", "visibility": "public"}
# The same guest as a bootable disk (MBR + extlinux): root volumes on a
# storage node and bare-metal sanboot are cloned from it.
TEST_DISK_IMAGE = {
    "name": "arame-test-disk",
    "format": "raw",
    "visibility": "public",
}

# Instances that name no network join this one.
DEFAULT_NETWORK = {
    "name": "default",
    "cidr": "10.200.0.0/24",
    "dns_domain": "arame.internal",
    "segmentation": "vxlan",
}


def bootstrap_admin(
    password: str, username: str = "admin", reset_password: bool = False
) -> str:
    """Create account a-admin and its admin user; returns the user id."""
    with db_engine.session() as s:
        if s.get(models.Account, ADMIN_ACCOUNT) is None:
            s.add(models.Account(id=ADMIN_ACCOUNT, name="admin"))
            s.flush()
        user = s.scalar(
            sa.select(models.User).where(models.User.username == username)
        )
        if user is None:
            user = models.User(
                id=ids.generate("user"),
                username=username,
                password_hash=hash_password(password),
                account_id=ADMIN_ACCOUNT,
                role="admin",
            )
            s.add(user)
        elif reset_password:
            user.password_hash = hash_password(password)
            user.token_generation += 1
        return user.id


def seed_flavors() -> list[str]:
    added = []
    with db_engine.session() as s:
        have = set(s.scalars(sa.select(models.Flavor.name)))
        for f in FLAVORS:
            if f["name"] not in have:
                s.add(models.Flavor(**f))
                added.append(f["name"])
    return added


def seed_test_image(spec: dict = TEST_IMAGE) -> str:
    """The image every first instance can use.

    Until the storage agent holds image bytes, it is a record that the fake
    and the local drivers boot from their own test image.
    """
    with db_engine.session() as s:
        img = s.scalar(
            sa.select(models.Image).where(
                models.Image.name == spec["name"],
                models.Image.account_id == ADMIN_ACCOUNT,
            )
        )
        if img is None:
            img = models.Image(
                id=ids.generate("image"),
                account_id=ADMIN_ACCOUNT,
                status="available",
                **spec,
            )
            s.add(img)
        return img.id


def seed_default_network() -> str:
    """The shared network `default` of account a-admin (10.200.0.0/24,
    VXLAN, a free segment id); needs the admin account."""
    N = models.Network
    spec = DEFAULT_NETWORK
    with db_engine.session() as s:
        net = s.scalar(
            sa.select(N).where(
                N.account_id == ADMIN_ACCOUNT, N.name == spec["name"]
            )
        )
        if net is None:
            plan = ipam.make_plan(spec["cidr"])
            net = N(
                id=ids.generate("network"),
                name=spec["name"],
                account_id=ADMIN_ACCOUNT,
                shared=True,
                ip_version=plan.ip_version,
                cidr=plan.cidr,
                gateway=plan.gateway,
                dns_domain=spec["dns_domain"],
                dhcp_ranges=plan.dhcp_ranges,
                dhcp_address=plan.dhcp_address,
                segmentation=spec["segmentation"],
                segment_id=ipam.pick_segment_id(s, spec["segmentation"]),
                mtu=ipam.default_mtu(spec["segmentation"]),
            )
            s.add(net)
        return net.id
