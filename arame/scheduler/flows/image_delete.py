"""An image's bytes leave the cloud: every storage node and every
hypervisor's image cache.

The API has moved the image to `deleting` (users see it no more: 404),
after checking that no live instance or volume uses it, and written this
task in the same commit. The flow asks, one step each:
- `storage`: every storage node that holds the image (image_locations)
  and every other live one (a copy whose location a crash kept from being
  recorded), sta delete_image; a volume cloned from the image meanwhile
  keeps working (the node moves the shared bytes into it). The node's
  location row goes in the step's commit;
- `cache`: every hypervisor, hva remove_image (its cache entry and its
  local store copy; an entry a guest still uses goes with its last guest);
and lands the image `deleted` when all answered.

Nothing is left unrecorded: a node or host that is down fails its step
(the others are still asked), the task fails naming them, and the image
stays `deleting` with the reason and the locations not yet removed; a
DELETE of the image runs the task again. A scheduler that dies mid-way
leaves the task to the sweep, which runs it again (every call is
idempotent; removed locations are not asked again).
"""

import sqlalchemy as sa
from oslo_log import log

from arame.common import states
from arame.common.db import engine as db_engine
from arame.common.db import models, services
from arame.scheduler.flows import liveness
from arame.scheduler.flows.base import HostDown, StepFailed
from arame.scheduler.flows.row_flow import RowFlow
from arame.scheduler.flows.volumes import STA_BINARY, sta_down

LOG = log.getLogger(__name__)


def _cache_summary(answer) -> str | None:
    """The event's message when the host kept something back."""
    if not isinstance(answer, dict) or answer.get("cache") != "kept":
        return None
    users = ", ".join(answer.get("in_use_by") or []) or "a guest"
    return f"cache entry kept until {users} is deleted (marked deleted)"


class ImageDeleteFlow(RowFlow):
    action, kind = "delete", "image"
    model = models.Image
    machine = states.IMAGE
    own_states = ("deleting",)

    def __init__(self, ctxt, task_id: str, image_id: str, sta, hva):
        super().__init__(ctxt, task_id, image_id)
        self.sta = sta
        self.hva = hva
        self.status: str | None = None
        self.nodes: list[str] = []
        self.hosts: list[str] = []

    @property
    def image_id(self) -> str:
        return self.resource_id

    def load(self, s) -> None:
        img = s.get(models.Image, self.image_id)
        self.status = img.status if img is not None else None
        IL = models.ImageLocation
        located = set(
            s.scalars(
                sa.select(IL.storage_node).where(IL.image_id == self.image_id)
            )
        )
        self.nodes = sorted(located | set(services.live_hosts(s, STA_BINARY)))
        H = models.Host
        self.hosts = sorted(
            s.scalars(sa.select(H.name).where(H.provider == "vm"))
        )

    def run(self) -> None:
        if not self.begin():
            return
        if self.status != "deleting":
            # Landed by an earlier run, or never moved here by the API.
            with db_engine.session() as s:
                self.note("delete", f"image is {self.status or 'gone'}")
                if self.status == "deleted":
                    self.finish(s)
                else:
                    self.end_task(s, "failed", None, f"image is {self.status}")
            return
        failed: list[str] = []
        for node in self.nodes:
            try:
                self._storage(node)
            except StepFailed as e:
                failed.append(f"storage node {node}: {e.message}")
        for host in self.hosts:
            try:
                self._cache(host)
            except StepFailed as e:
                failed.append(f"hypervisor {host}: {e.message}")
        if failed:
            self.fail(
                "storage" if failed[0].startswith("storage") else "cache",
                "; ".join(failed) + " (DELETE the image again to retry)",
            )
            return
        with db_engine.session() as s:
            if self.transition(s, "deleted", src=self.own_states):
                RT = models.ResourceTag
                s.execute(
                    sa.delete(RT)
                    .where(RT.resource_id == self.image_id)
                    .execution_options(synchronize_session=False)
                )
            self.finish(s)

    def _ask(self, step: str, host: str, method, down) -> dict:
        # A host already down is not waited for (a first call would take
        # the whole call timeout to tell).
        if down():
            raise HostDown(host)
        return self.ask(step, host, method, self.image_id, down=down)

    def _storage(self, node: str) -> None:
        with self.step("storage", host=node):
            self.checkpoint()
            self._ask("storage", node, self.sta.delete_image, sta_down(node))
            with db_engine.session() as s:
                IL = models.ImageLocation
                s.execute(
                    sa.delete(IL)
                    .where(
                        IL.image_id == self.image_id, IL.storage_node == node
                    )
                    .execution_options(synchronize_session=False)
                )
                self.flush(s)

    def _cache(self, host: str) -> None:
        with self.step("cache", host=host):
            self.checkpoint()
            answer = self._ask(
                "cache",
                host,
                self.hva.remove_image,
                liveness.hypervisor_down(host),
            )
        kept = _cache_summary(answer)
        if kept:
            self.note("cache", f"{host}: {kept}")

    def mark_error(self, s, reason: str) -> None:
        """The image stays `deleting` (users no longer see it); the reason
        says what is left, for an operator and for the next DELETE."""
        I = models.Image
        s.execute(
            sa.update(I)
            .where(I.id == self.image_id, I.status == "deleting")
            .values(status_reason=reason[:255], updated_at=models.utcnow())
            .execution_options(synchronize_session=False)
        )
