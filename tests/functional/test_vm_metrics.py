"""Guest metrics on real guests: hva (libvirt, QEMU) samples a booted
guest every second, the API answers its samples, and the agent's
Prometheus endpoint serves its series labelled with the instance and its
account; once the guest is deleted the series goes.

Its own deployment (vm_deployment is module-scoped): hva is started again
with sampling every second and a Prometheus port.
"""

import httpx
import pytest
from conftest import BOOT_TIMEOUT, wait_task, wait_until
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.ports import free_port

pytestmark = pytest.mark.functional


@pytest.fixture(scope="module")
def prometheus_url(vm_deployment):
    port = free_port()
    vm_deployment.stop("hva")
    vm_deployment.start(
        "hva",
        overlay={
            "hva": {
                "metrics_interval": 1,
                "prometheus_port": port,
                "prometheus_bind_host": "127.0.0.1",
            }
        },
    )
    url = f"http://127.0.0.1:{port}/metrics"
    # The endpoint starts with the agent's RPC server, before its
    # heartbeat; the KVM probe's answer is cached from the first start.
    wait_until(
        lambda: httpx.get(url, timeout=5).status_code == 200,
        120,
        f"hva's Prometheus endpoint at {url}",
        interval=0.5,
        ignore=(httpx.HTTPError,),
    )
    return url


def guest_series(url: str, iid: str) -> dict:
    """Sample name -> (value, labels) of one guest's series."""
    text = httpx.get(url, timeout=10).text
    return {
        s.name: (s.value, s.labels)
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if s.labels.get("instance") == iid
    }


def test_a_booted_guests_metrics_reach_the_api_and_prometheus(
    vm_deployment, vm_client, vm_image, prometheus_url
):
    inst = vm_client.instances.create(
        name="metrics1", flavor="small", image=vm_image
    )
    iid = inst["id"]
    wait_task(vm_client, inst["task_id"])
    url = f"{vm_deployment.api_url}/v1/instances/{iid}/metrics"
    auth = {"Authorization": f"Bearer {vm_client.token}"}

    def busy_samples():
        r = httpx.get(url, headers=auth, timeout=30)
        assert r.status_code == 200, r.text
        body = r.json()
        busy = [s for s in body["samples"] if s["cpu_percent"] > 0]
        return len(busy) >= 2 and body

    body = wait_until(
        busy_samples,
        BOOT_TIMEOUT,
        f"two samples of {iid} with CPU used",
        interval=1,
    )
    assert body["instance_id"] == iid and body["interval"] == 1
    last = body["samples"][-1]
    # the small flavor: 512 MiB, of which the guest uses some
    assert last["memory_mb"] == 512
    assert 0 < last["memory_used_mb"] <= 512
    assert all(0 <= s["cpu_percent"] <= 100 for s in body["samples"])
    ats = [s["at"] for s in body["samples"]]
    assert ats == sorted(ats)

    # since: only what came after
    later = httpx.get(
        url, params={"since": last["at"]}, headers=auth, timeout=30
    ).json()["samples"]
    assert all(s["at"] > last["at"] for s in later)

    series = wait_until(
        lambda: guest_series(prometheus_url, iid),
        30,
        f"{iid}'s series at {prometheus_url}",
        interval=1,
    )
    cpu, labels = series["arame_guest_cpu_seconds_total"]
    assert cpu > 0
    assert labels["account"] == inst["account_id"]
    assert labels["unit"] == ""
    assert series["arame_guest_vcpus"][0] == 1
    assert series["arame_guest_memory_bytes"][0] == 512 * 2**20
    assert series["arame_guest_disk_read_bytes_total"][0] > 0

    wait_task(vm_client, vm_client.instances.delete(iid)["task_id"])
    wait_until(
        lambda: not guest_series(prometheus_url, iid),
        30,
        f"{iid}'s series gone from {prometheus_url}",
        interval=1,
    )
