"""The image delete flow: every storage node and every hypervisor asked
once, the image `deleted` when all answered; what is down is named, left
recorded, and done by the next run."""

import io

import pytest
import sqlalchemy as sa

from arame.common import ids, tasks
from arame.common.db import engine, models
from arame.scheduler.flows.image_delete import ImageDeleteFlow

from .test_volume_flows import DISK, SHA, FakeSTA, add_sta  # noqa: F401


class FakeHVA:
    """hva's remove_image: what each host answers, recorded."""

    def __init__(self):
        self.calls: list[tuple[str, str]] = []
        self.answers: dict[str, dict] = {}

    def remove_image(self, ctxt, host, image_id, timeout):
        assert timeout > 0
        self.calls.append((host, image_id))
        return self.answers.get(
            host,
            {
                "image_id": image_id,
                "cache": "removed",
                "in_use_by": [],
                "store": "absent",
            },
        )


@pytest.fixture
def sta(tmp_path, sched_conf):
    imports = tmp_path / "import"
    imports.mkdir()
    return FakeSTA(str(imports))


@pytest.fixture
def hva():
    return FakeHVA()


@pytest.fixture
def image(cloud, sta):
    """make(located_on=(), status="deleting") -> (image id, task id): the
    image as the API leaves it, its bytes on the nodes named."""

    def make(located_on=(), status="deleting"):
        iid = ids.generate("image")
        with engine.session() as s:
            s.add(
                models.Image(
                    id=iid,
                    name="gone",
                    account_id="a-admin",
                    format="raw",
                    status=status,
                    size_bytes=len(DISK),
                    sha256=SHA,
                )
            )
            for node in located_on:
                s.add(models.ImageLocation(image_id=iid, storage_node=node))
                sta.node(node).backend.import_image(
                    iid, io.BytesIO(DISK), len(DISK), SHA
                )
            s.add(models.ResourceTag(resource_id=iid, tag="golden"))
        return iid, new_task(iid)

    return make


def new_task(image_id):
    with engine.session() as s:
        return tasks.create(
            s,
            account_id="a-admin",
            resource_id=image_id,
            resource_type="image",
            action="delete",
            timeout_s=600,
        ).id


@pytest.fixture
def run(ctxt, sta, hva):
    def go(image_id, task_id):
        ImageDeleteFlow(ctxt, task_id, image_id, sta, hva).run()

    return go


def events(task):
    return [(e.step, e.status, e.host) for e in task.events]


def locations(image_id):
    IL = models.ImageLocation
    with engine.session() as s:
        return sorted(
            s.scalars(
                sa.select(IL.storage_node).where(IL.image_id == image_id)
            )
        )


def test_every_node_and_host_is_asked_then_the_image_is_deleted(
    run, image, sta, hva, add_sta, add_host, get_row
):
    for n in ("st1", "st2"):
        add_sta(n)
    add_host("hv1")
    add_host("hv2")
    iid, tid = image(located_on=["st1"])
    run(iid, tid)

    task = get_row(models.Task, tid)
    assert task.status == "done", task.error_message
    assert events(task) == [
        ("storage", "done", "st1"),
        ("storage", "done", "st2"),  # live, not recorded: asked anyway
        ("cache", "done", "hv1"),
        ("cache", "done", "hv2"),
    ]
    assert get_row(models.Image, iid).status == "deleted"
    assert locations(iid) == []
    assert iid not in sta.node("st1").backend.images
    assert sta.calls == [("delete_image", "st1"), ("delete_image", "st2")]
    assert hva.calls == [("hv1", iid), ("hv2", iid)]
    with engine.session() as s:
        assert (
            s.scalars(
                sa.select(models.ResourceTag).where(
                    models.ResourceTag.resource_id == iid
                )
            ).all()
            == []
        )


def test_what_is_down_is_named_left_recorded_and_done_next_time(
    run, image, sta, hva, add_sta, add_host, get_row, config
):
    config("service_down_time", 60)
    add_sta("st1")
    add_sta("st2", up=False)
    add_host("hv1")
    add_host("hv2", age_s=3600)
    iid, tid = image(located_on=["st1", "st2"])
    run(iid, tid)

    task = get_row(models.Task, tid)
    assert task.status == "failed"
    assert "storage node st2" in task.error_message
    assert "hypervisor hv2" in task.error_message
    assert "DELETE the image again" in task.error_message
    # The others were done; the down ones were not even asked.
    assert sta.calls == [("delete_image", "st1")]
    assert hva.calls == [("hv1", iid)]
    img = get_row(models.Image, iid)
    assert img.status == "deleting"
    assert "st2" in img.status_reason
    assert locations(iid) == ["st2"]

    # Both come back; the next DELETE's task finishes the job.
    with engine.session() as s:
        s.execute(
            sa.update(models.Service)
            .where(models.Service.host == "st2")
            .values(last_heartbeat_at=models.utcnow())
        )
        s.execute(
            sa.update(models.Host)
            .where(models.Host.name == "hv2")
            .values(last_report_at=models.utcnow())
        )
    tid2 = new_task(iid)
    run(iid, tid2)
    assert get_row(models.Task, tid2).status == "done"
    assert get_row(models.Image, iid).status == "deleted"
    assert locations(iid) == []
    assert iid not in sta.node("st2").backend.images


def test_a_cache_entry_in_use_is_noted(
    run, image, hva, add_host, get_row, cloud
):
    add_host("hv1")
    iid, tid = image()
    hva.answers["hv1"] = {
        "image_id": iid,
        "cache": "kept",
        "in_use_by": ["i-abcdefgh"],
        "store": "removed",
    }
    run(iid, tid)
    task = get_row(models.Task, tid)
    assert task.status == "done"
    notes = [e.message for e in task.events if e.message]
    assert notes == [
        "hv1: cache entry kept until i-abcdefgh is deleted (marked deleted)"
    ]


def test_a_run_after_the_image_was_deleted_asks_nobody(
    run, image, sta, hva, add_sta, add_host, get_row
):
    add_sta("st1")
    add_host("hv1")
    iid, tid = image(status="deleted")
    run(iid, tid)
    assert get_row(models.Task, tid).status == "done"
    assert sta.calls == [] and hva.calls == []


def test_an_image_the_api_never_moved_to_deleting_is_left_alone(
    run, image, sta, hva, add_sta, get_row
):
    add_sta("st1")
    iid, tid = image(located_on=["st1"], status="available")
    run(iid, tid)
    task = get_row(models.Task, tid)
    assert task.status == "failed" and "available" in task.error_message
    assert get_row(models.Image, iid).status == "available"
    assert sta.calls == [] and locations(iid) == ["st1"]
