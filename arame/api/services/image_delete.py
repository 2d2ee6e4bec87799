"""DELETE /v1/images/{id}: refused while anything uses the image; otherwise
the image leaves the users' view at once (`deleting`: lists and gets no
longer show it) and a task removes its bytes from every storage node and
hypervisor (scheduler/flows/image_delete.py), landing it `deleted`.

What uses an image: instances not terminated made from it (an instance
in error still has its disk) and volumes not deleted made from it (root
volumes included). An instance or volume created in the same instant
as the delete may slip past the check; its build then fails naming the
image (or, if it cloned the image first, keeps working: the storage node
moves the shared bytes into it).

The record is the durable part: the image stays `deleting`, with its
remaining image_locations, until the task has removed every copy. A task
that could not (a node down) leaves the reason in status_reason; DELETE
again runs it again. `GET /v1/images?status=deleting` lists such images.
"""

import sqlalchemy as sa

from arame.api import policy
from arame.api.services import catalog
from arame.api.services.scheduling import SchedulerCaster, dispatch
from arame.common import exceptions, ids, tasks
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models

# How many users of each kind a 409 names (it counts them all).
NAMED = 5
# Once here, the image is gone for its users (404 but to DELETE, which
# retries a `deleting` one).
GONE = ("deleting", "deleted")
ACTIVE_TASK = ("queued", "running")


def _users(s, model, image_id: str, live) -> tuple[list[str], int]:
    """(the first NAMED ids, how many) of `model` rows using the image."""
    where = (model.image_id == image_id, live)
    named = list(
        s.scalars(
            sa.select(model.id).where(*where).order_by(model.id).limit(NAMED)
        )
    )
    count = s.scalar(sa.select(sa.func.count()).where(*where)) or 0
    return named, count


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def refuse_if_used(s, image_id: str) -> None:
    I, V = models.Instance, models.Volume
    insts, n_inst = _users(s, I, image_id, I.status != "terminated")
    vols, n_vol = _users(s, V, image_id, V.status != "deleted")
    # A unit's spec keeps the image id (units.py): its next add_nodes
    # would need the image.
    unit_ids = sorted(
        uid
        for uid, spec in s.execute(sa.select(models.Unit.id, models.Unit.spec))
        if spec.get("image") == image_id
    )
    units, n_unit = unit_ids[:NAMED], len(unit_ids)
    if not n_inst and not n_vol and not n_unit:
        return
    parts = []
    for named, n, word in (
        (insts, n_inst, "instance"),
        (vols, n_vol, "volume"),
        (units, n_unit, "unit"),
    ):
        if n:
            more = f" and {n - len(named)} more" if n > len(named) else ""
            parts.append(f"{_plural(n, word)} ({', '.join(named)}{more})")
    raise exceptions.Conflict(
        f"image {image_id} is in use by {' and '.join(parts)}: delete "
        "them first",
        instances=insts,
        instance_count=n_inst,
        volumes=vols,
        volume_count=n_vol,
        units=units,
        unit_count=n_unit,
    )


def _load(s, ctxt, image_id: str) -> models.Image:
    img = (
        s.get(models.Image, image_id)
        if ids.is_valid("image", image_id)
        else None
    )
    if (
        img is None
        or img.status == "deleted"
        or not (
            ctxt.is_admin
            or img.visibility == "public"
            or img.account_id == ctxt.account_id
        )
    ):
        raise exceptions.NotFound(f"image {image_id} not found")
    # Seen (a public image) but not the caller's: 403.
    policy.enforce(ctxt, "images:delete", img.account_id)
    return img


def _running_task(s, image_id: str) -> str | None:
    T = models.Task
    return s.scalar(
        sa.select(T.id).where(
            T.resource_id == image_id,
            T.resource_type == "image",
            T.action == "delete",
            T.status.in_(ACTIVE_TASK),
        )
    )


class ImageDeleteService(SchedulerCaster):
    def delete(self, ctxt, image_id: str) -> str:
        """The id of the task that removes the bytes (an earlier DELETE's
        while it still runs)."""
        I = models.Image
        with db_engine.session() as s:
            img = _load(s, ctxt, image_id)
            if img.status == "uploading" and not catalog.stale_upload(img):
                # (An upload the API never finished, past [storage_data]
                # stale_upload_seconds, may go: the flow asks every live
                # node, which removes what it kept of it.)
                raise exceptions.Conflict(
                    f"image {image_id} is being uploaded: delete it once "
                    "the upload has ended"
                )
            if img.status == "deleting":
                running = _running_task(s, image_id)
                if running is not None:
                    return running
            else:
                refuse_if_used(s, image_id)
            # From the state it was read in: a change meanwhile (an upload
            # began) wins, and this DELETE is a 409.
            if not s.execute(
                sa.update(I)
                .where(I.id == image_id, I.status == img.status)
                .values(
                    status="deleting",
                    status_reason=None,
                    updated_at=models.utcnow(),
                )
                .execution_options(synchronize_session=False)
            ).rowcount:
                raise exceptions.Conflict(
                    f"image {image_id} changed meanwhile: try again"
                )
            task = tasks.create(
                s,
                account_id=img.account_id,
                resource_id=image_id,
                resource_type="image",
                action="delete",
                timeout_s=CONF.scheduler.delete_timeout,
                request_id=ctxt.request_id,
            )
        dispatch(
            lambda: self.scheduler.delete_image(ctxt, task.id, image_id),
            task.id,
            unavailable="the message bus is not reachable; the image is "
            "deleted but its bytes are not yet removed: repeat the request",
        )
        return task.id


service = ImageDeleteService()
