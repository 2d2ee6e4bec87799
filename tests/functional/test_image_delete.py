"""DELETE /v1/images/{id} through a real deployment: the image's bytes on
real ZFS (zfs-fuse, arame-sta) are refused removal while a volume made
from them lives, then removed from the pool and from the hypervisor (the
fake driver's arame-hva answers over the bus), and the image is gone."""

import hashlib
import random
import uuid

import pytest
import sqlalchemy as sa
from conftest import ADMIN_PASSWORD, BASE_CONF, Deployment, free_port, merge

from arame.common import runner
from arame.deploy import infra
from arame.sdk.errors import ArameError

pytestmark = pytest.mark.functional

MiB = 1024**2
SIZE = 3 * MiB + 17


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
        for role in ("collector", "scheduler", "sta", "hva", "api"):
            dep.start(role)
        dep.wait_ready(90, hypervisors=1)
        yield dep
    finally:
        dep.down(drop=True)


@pytest.fixture
def client(deployment):
    c = deployment.client()
    yield c
    c.close()


def datasets(pool: str) -> list[str]:
    out = runner.run(
        ["zfs", "list", "-H", "-o", "name", "-t", "all", "-r", pool]
    ).stdout
    return out.split()


def locations(dep, image_id) -> list[str]:
    eng = dep.engine()
    try:
        with eng.connect() as c:
            return list(
                c.execute(
                    sa.text(
                        "SELECT storage_node FROM image_locations "
                        "WHERE image_id = :i"
                    ),
                    {"i": image_id},
                ).scalars()
            )
    finally:
        eng.dispose()


def hypervisors(dep) -> list[str]:
    eng = dep.engine()
    try:
        with eng.connect() as c:
            return list(
                c.execute(
                    sa.text("SELECT name FROM hosts ORDER BY name")
                ).scalars()
            )
    finally:
        eng.dispose()


def test_refused_while_a_volume_uses_it_then_gone_everywhere(
    deployment, client, tmp_path
):
    pool = deployment.conf["sta"]["pool"]
    path = tmp_path / "disk.raw"
    with open(path, "wb") as f:
        f.write(b"\x5a" * MiB)
        f.truncate(SIZE)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    img = client.images.create("to-delete", "raw")
    got = client.images.upload(img["id"], str(path), sha256=sha)
    assert got["status"] == "available"
    [node] = locations(deployment, img["id"])
    assert f"{pool}/images/{img['id']}@base" in datasets(pool)

    vol = client.volumes.create("from-it", 1, image=img["id"])
    assert client.tasks.wait(vol["task_id"], timeout=60)["status"] == "done"
    with pytest.raises(ArameError) as e:
        client.images.delete(img["id"])
    assert e.value.status_code == 409
    assert vol["id"] in e.value.message
    assert e.value.details["volumes"] == [vol["id"]]
    assert client.images.get(img["id"])["status"] == "available"

    done = client.tasks.wait(
        client.volumes.delete(vol["id"])["task_id"], timeout=60
    )
    assert done["status"] == "done"
    client.images.delete(img["id"])
    with pytest.raises(ArameError) as e:
        client.images.get(img["id"])
    assert e.value.status_code == 404
    [task] = client.tasks.list(resource_id=img["id"])
    task = client.tasks.wait(task["id"], timeout=60)
    assert task["status"] == "done", task
    steps = [(e["step"], e["status"], e["host"]) for e in task["events"]]
    assert ("storage", "done", node) in steps
    assert [s for s in steps if s[0] == "cache"] == [
        ("cache", "done", h) for h in hypervisors(deployment)
    ]
    assert not [d for d in datasets(pool) if img["id"] in d]
    assert locations(deployment, img["id"]) == []
    assert img["id"] not in [i["id"] for i in client.images.list()]
    assert deployment.logs_with_errors() == {}
