"""The delete flow: remove the guest, give back the claim, terminate."""

import pytest

from arame.common.db import models
from arame.scheduler.flows.delete import DeleteFlow
from arame.scheduler.leases import Leases

USED = dict(vcpus_used=1, memory_mb_used=512, disk_gb_used=5, instance_count=1)


@pytest.fixture
def delete(ctxt, hva, sched_conf):
    def run(instance_id, task_id):
        DeleteFlow(ctxt, task_id, instance_id, hva).run()

    return run


def placed(add_host, add_instance):
    """An instance the API has just moved to shuttingdown, claimed on hv1."""
    add_host("hv1", **USED)
    return add_instance(
        status="shuttingdown", host="hv1", claimed=True, action="delete"
    )


def test_delete_destroys_releases_and_terminates(
    delete, hva, add_host, add_instance, get_row, usage
):
    iid, tid = placed(add_host, add_instance)
    delete(iid, tid)

    assert hva.calls == [("destroy", "hv1", iid)]
    assert usage() == (0, 0, 0, 0)
    inst = get_row(models.Instance, iid)
    assert inst.status == "terminated"
    assert inst.terminated_at is not None
    assert inst.power_state is None and inst.status_reason is None
    assert inst.claimed is False
    task = get_row(models.Task, tid)
    assert task.status == "done"
    assert [(e.step, e.status, e.host) for e in task.events] == [
        ("destroy", "done", "hv1"),
        ("release", "done", "hv1"),
    ]


def test_delete_of_an_instance_never_placed_skips_the_agent(
    delete, hva, add_host, add_instance, get_row, usage
):
    add_host("hv1", **USED)
    iid, tid = add_instance(status="shuttingdown", action="delete")
    delete(iid, tid)
    assert hva.calls == []
    assert usage() == (1, 512, 5, 1)  # someone else's claim
    assert get_row(models.Instance, iid).status == "terminated"
    assert get_row(models.Task, tid).status == "done"


def test_delete_after_a_cancelled_build_releases_nothing_twice(
    delete, hva, add_host, add_instance, get_row, usage
):
    # The build already gave the claim back; the host row keeps the host.
    add_host("hv1", **USED)
    iid, tid = add_instance(
        status="shuttingdown", host="hv1", claimed=False, action="delete"
    )
    delete(iid, tid)
    assert usage() == (1, 512, 5, 1)
    assert get_row(models.Instance, iid).status == "terminated"


def test_destroy_failure_keeps_the_claim_and_shows_error(
    delete, hva, add_host, add_instance, get_row, usage
):
    iid, tid = placed(add_host, add_instance)
    hva.fail["destroy"] = RuntimeError("domain busy")
    delete(iid, tid)

    task = get_row(models.Task, tid)
    assert (task.status, task.error_step) == ("failed", "destroy")
    assert "domain busy" in task.error_message
    inst = get_row(models.Instance, iid)
    assert inst.status == "error"
    assert "destroy" in inst.status_reason
    assert inst.claimed is True
    assert usage() == (1, 512, 5, 1)


def test_delete_can_be_retried_after_a_failure(
    delete, hva, add_host, add_instance, get_row, usage, behind_the_back
):
    iid, tid = placed(add_host, add_instance)
    hva.fail["destroy"] = RuntimeError("domain busy")
    delete(iid, tid)
    del hva.fail["destroy"]
    # A second DELETE: the API moves error -> shuttingdown with a new task.
    behind_the_back(iid, "shuttingdown")
    from arame.common import tasks
    from arame.common.db import engine

    with engine.session() as s:
        tid2 = tasks.create(
            s,
            account_id="a-admin",
            resource_id=iid,
            resource_type="instance",
            action="delete",
            timeout_s=300,
        ).id
    delete(iid, tid2)
    assert get_row(models.Instance, iid).status == "terminated"
    assert usage() == (0, 0, 0, 0)


@pytest.mark.parametrize("leased", [True, False])
def test_the_task_shows_destroy_while_the_host_destroys(
    ctxt, hva, sched_conf, add_host, add_instance, get_row, leased
):
    # The take writes the step the delete begins with (no checkpoint of
    # its own): a client following the task, and the reaper if the
    # scheduler dies there, see `destroy` while hva works.
    iid, tid = placed(add_host, add_instance)
    seen = []
    hva.hooks["destroy"] = lambda _id: seen.append(
        (get_row(models.Task, tid).status, get_row(models.Task, tid).step)
    )
    flow = DeleteFlow(ctxt, tid, iid, hva)
    flow.leases = Leases() if leased else None
    flow.run()
    assert seen == [("running", "destroy")]
    task = get_row(models.Task, tid)
    assert (task.status, task.step) == ("done", "release")
    assert [(e.step, e.status) for e in task.events] == [
        ("destroy", "done"),
        ("release", "done"),
    ]
