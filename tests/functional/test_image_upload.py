"""Image upload through a real deployment: the API (its own process)
streams the body to arame-sta's data endpoint on real ZFS (zfs-fuse), the
image becomes `available` on that node, and a volume made from it over the
API is a clone of its @base snapshot."""

import hashlib
import os
import random
import uuid

import pytest
import sqlalchemy as sa
from conftest import ADMIN_PASSWORD, BASE_CONF, Deployment, free_port, merge

from arame.common import runner
from arame.deploy import infra
from arame.sdk.errors import ArameError
from tests.helpers.waiting import wait_until

MiB = 1024**2
SIZE = 4 * MiB + 4321

# Larger than [api] max_request_body_bytes (1 MiB): an image's bytes are
# streamed past that limit to the storage node.


@pytest.fixture(scope="module")
def deployment(infrastructure, libvirt_lab, tmp_path_factory):
    rabbit, mariadb = infrastructure
    name = "ft_" + uuid.uuid4().hex[:8]
    state = tmp_path_factory.mktemp(name)
    conf = merge(
        BASE_CONF,
        {
            "sta": {
                "backend": "zfs",
                "target": "tgt",
                "pool": f"ft{name[3:]}",
                "pool_size_gb": 4,
                "iscsi_address": infra.LAB_UNDERLAY[1].split("/")[0],
                "iscsi_port": random.randrange(3300, 3900),
                "tgt_control_port": random.randrange(1000, 30000),
                "import_dirs": str(state / "sta-import"),
            },
            "scheduler": {"agent_call_timeout": 60},
        },
    )
    dep = Deployment(
        name,
        str(state),
        api_port=free_port(),
        admin_password=ADMIN_PASSWORD,
        conf=conf,
        rabbit=rabbit,
        mariadb=mariadb,
    )
    try:
        dep.prepare()
        for role in ("collector", "scheduler", "sta", "api"):
            dep.start(role)
        dep.wait_ready(90, hypervisors=0)
        yield dep
    finally:
        dep.down(drop=True)


@pytest.fixture
def client(deployment):
    c = deployment.client()
    yield c
    c.close()


@pytest.fixture
def disk(tmp_path):
    """A sparse raw file with a few marked MiB, and its sha256."""
    path = tmp_path / "disk.raw"
    with open(path, "wb") as f:
        for mib, byte in ((0, 0x5A), (2, 0x33)):
            f.seek(mib * MiB)
            f.write(bytes([byte]) * MiB)
        f.truncate(SIZE)
    with open(path, "rb") as f:
        return str(path), hashlib.file_digest(f, "sha256").hexdigest()


def datasets(pool: str) -> list[str]:
    out = runner.run(
        ["zfs", "list", "-H", "-o", "name", "-t", "all", "-r", pool]
    ).stdout
    return out.split()


def test_upload_then_a_volume_from_the_image(deployment, client, disk):
    path, sha = disk
    pool = deployment.conf["sta"]["pool"]
    img = client.images.create("uploaded-disk", "raw")
    assert img["status"] == "pending"

    got = client.images.upload(img["id"], path)
    assert (got["status"], got["size_bytes"], got["sha256"]) == (
        "available",
        SIZE,
        sha,
    )
    assert client.images.get(img["id"])["status"] == "available"
    assert f"{pool}/images/{img['id']}@base" in datasets(pool)
    with deployment.engine().connect() as c:
        nodes = (
            c.execute(
                sa.text(
                    "SELECT storage_node FROM image_locations WHERE image_id = :i"
                ),
                {"i": img["id"]},
            )
            .scalars()
            .all()
        )
    assert len(nodes) == 1

    vol = client.volumes.create("from-upload", 1, image=img["id"])
    wait_until(
        lambda: (
            client.volumes.get(vol["id"])["status"] in ("available", "error")
        ),
        60,
        "the volume to be made",
    )
    v = client.volumes.get(vol["id"])
    assert v["status"] == "available", v
    assert v["storage_node"] == nodes[0]
    origin = runner.run(
        [
            "zfs",
            "get",
            "-H",
            "-o",
            "value",
            "origin",
            f"{pool}/volumes/{vol['id']}",
        ]
    ).stdout.strip()
    assert origin == f"{pool}/images/{img['id']}@base"
    assert deployment.logs_with_errors() == {}


def test_wrong_sha256_is_422_and_the_image_may_be_sent_again(
    deployment, client, disk
):
    path, _ = disk
    pool = deployment.conf["sta"]["pool"]
    img = client.images.create("retry-disk", "raw")
    with pytest.raises(ArameError) as e:
        client.images.upload(img["id"], path, sha256="0" * 64)
    assert e.value.status_code == 422
    assert "sha256" in e.value.message
    again = client.images.get(img["id"])
    assert again["status"] == "pending" and again["status_reason"]
    assert not [d for d in datasets(pool) if img["id"] in d]
    assert client.images.upload(img["id"], path)["status"] == "available"
    assert os.path.getsize(path) == SIZE
