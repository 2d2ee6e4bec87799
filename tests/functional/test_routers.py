"""Routers and floating IPs on the real daemons (the L3 agent with its
in-memory driver): a router lands on the L3 host, a floating IP is
associated through it, and a router task whose scheduler is killed
(SIGKILL) while the agent is held still ends once another scheduler
adopts it."""

import os
import signal

import pytest
from conftest import first_image, wait_until

pytestmark = pytest.mark.functional

CONF = {"scheduler": {"task_lease": 3, "sweep_interval": 1}}


def test_router_floating_ip_and_a_scheduler_killed_mid_task(make_deployment):
    dep = make_deployment(conf=CONF)
    c = dep.client()
    try:
        c.networks.create(
            "public",
            "203.0.113.0/24",
            "public.test",
            segmentation="flat",
            external=True,
            physical_network="public",
            gateway="203.0.113.1",
            dhcp_ranges=[["203.0.113.10", "203.0.113.200"]],
        )
        c.networks.create("tenant", "10.77.0.0/24", "tenant.test")
        inst = c.instances.create(
            name="web", flavor="small", image=first_image(c), network="tenant"
        )
        c.tasks.wait(inst["task_id"], timeout=60)

        r = c.routers.create(
            "r1", external_network="public", networks=["tenant"]
        )
        task = c.tasks.wait(r["task_id"], timeout=60)
        # The naming node's dnsmasq leaves the gateway before the router
        # takes it.
        assert [e["step"] for e in task["events"]] == [
            "schedule",
            "move DHCP",
            "apply",
        ]
        shown = c.routers.get("r1")
        assert shown["status"] == "active"
        assert shown["host"] == task["events"][0]["host"]

        fip = c.floating_ips.allocate("public")
        a = c.floating_ips.associate(fip["id"], inst["id"])
        c.tasks.wait(a["task_id"], timeout=60)
        assert c.floating_ips.get(fip["id"])["instance_id"] == inst["id"]

        # The agent holds still: the next task waits at `apply`.
        l3 = dep.daemons["l3"]
        os.kill(l3.pid, signal.SIGSTOP)
        try:
            d = c.floating_ips.disassociate(fip["id"])
            wait_until(
                lambda: c.tasks.get(d["task_id"])["step"] == "apply",
                timeout=30,
            )
            dep.stop("scheduler", sig=signal.SIGKILL)
        finally:
            os.kill(l3.pid, signal.SIGCONT)
        dep.start("scheduler")
        done = c.tasks.wait(d["task_id"], timeout=60)
        assert done["status"] == "done"
        assert c.floating_ips.get(fip["id"])["instance_id"] is None
        assert c.routers.get("r1")["status"] == "active"

        # Deleting the instance with an association lets go of it.
        a = c.floating_ips.associate(fip["id"], inst["id"])
        c.tasks.wait(a["task_id"], timeout=60)
        gone = c.instances.delete(inst["id"])
        c.tasks.wait(gone["task_id"], timeout=60)
        assert c.floating_ips.get(fip["id"])["instance_id"] is None

        rd = c.routers.delete("r1")
        c.tasks.wait(rd["task_id"], timeout=60)
        assert [x["name"] for x in c.routers.list()] == []
        assert not dep.logs_with_errors().get("l3.log")
    finally:
        c.close()
