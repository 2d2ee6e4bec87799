"""An instance's spec fields on the real control plane (MariaDB, RabbitMQ,
the fake hypervisor): a sized root, several key pairs and a 96 KiB script
are recorded whole and carried to the hypervisor."""

import configparser

import pytest
import sqlalchemy as sa
from conftest import first_image

pytestmark = pytest.mark.functional

ED25519 = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID6SmRWCC3iwp+tNoGiCSACiLWuC"
    "VE5CY2hC4tBz4Ow7 tester@host"
)


@pytest.fixture(scope="module")
def client(shared_deployment):
    c = shared_deployment.client()
    yield c
    c.close()


def _database(deployment):
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(deployment.config_path)
    return sa.create_engine(cp["database"]["connection"])


def test_root_gb_key_pairs_and_96_kib_of_user_data(shared_deployment, client):
    a = client.key_pairs.create(name="spec-a")  # generated
    b = client.key_pairs.create(name="spec-b", public_key=ED25519)
    script = "#!/bin/sh\n" + "x" * (96 * 1024 - 11) + "\n"
    assert len(script.encode()) == 96 * 1024
    inst = client.instances.create(
        name="spec1",
        flavor="small",
        image=first_image(client),
        root_gb=12,
        key_pairs=[a["id"], b["id"]],
        user_data=script,
    )
    task = client.tasks.wait(inst["task_id"], timeout=60)
    assert task["status"] == "done", task["error"]
    shown = client.instances.get(inst["id"])
    assert shown["root_gb"] == 12
    assert shown["key_pairs"] == [a["id"], b["id"]]
    assert shown["key_pair"] == a["id"]
    # The fake guest's console lists the keys its spawn message carried.
    console = client.instances.console(inst["id"])["output"]
    assert "authorized keys: 2" in console
    engine = _database(shared_deployment)
    try:
        with engine.connect() as conn:
            stored, disk = conn.execute(
                sa.text(
                    "SELECT user_data, disk_gb FROM instances WHERE id = :i"
                ),
                {"i": inst["id"]},
            ).one()
    finally:
        engine.dispose()
    assert stored == script and disk == 12
    client.instances.delete(inst["id"])
