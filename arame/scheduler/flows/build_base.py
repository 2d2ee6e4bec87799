"""What every build shares (VM and bare metal): a pending instance goes
through build(); a failure or a DELETE meanwhile rolls back what was done;
a build adopted from a scheduler that died resumes (restore(),
resume_build())."""

from arame.common.db import models
from arame.scheduler.flows.base import Cancelled, StepFailed
from arame.scheduler.flows.row_flow import InstanceFlow

CANCELLED_BEFORE = "cancelled: instance was deleted before placement"
CANCELLED_DURING = "cancelled: instance was deleted during the build"


class BuildBase(InstanceFlow):
    """The run() every build shares (VM and bare metal): a pending instance
    goes through build(); a failure or a DELETE meanwhile rolls back what
    was done before the task ends."""

    action = "create"

    def run(self) -> None:
        if not self.begin():
            return
        inst = self.instance
        if inst is not None and self.adopted and inst.status != "pending":
            # A scheduler died in the middle of this build.
            self.restore(inst)
            if inst.status not in self.own_states:
                # Deleted meanwhile: undo what the first attempt did.
                self.rollback(CANCELLED_DURING)
                self.fail(None, CANCELLED_DURING, resource_error=False)
                return
            steps = self.resume_build
        elif inst is None or inst.status != "pending":
            # Deleted before we got to it: nothing to build or undo.
            self.fail(None, CANCELLED_BEFORE, resource_error=False)
            return
        else:
            steps = self.build
        try:
            steps(inst)
        except Cancelled:
            self.rollback(CANCELLED_DURING)
            self.fail(None, CANCELLED_DURING, resource_error=False)
        except StepFailed as e:
            self.rollback(
                f"deploy of {self.instance_id} failed at {e.step}: {e.message}"
            )
            self.fail(e.step, e.message)

    def build(self, inst: models.Instance) -> None:
        """The steps, in order; each raises StepFailed or Cancelled."""
        raise NotImplementedError

    def rollback(self, reason: str) -> None:
        """Undo what build() did; `reason` is why (for what keeps a
        status reason of its own, e.g. a bare-metal node)."""
        raise NotImplementedError

    def restore(self, inst: models.Instance) -> None:
        """An adopted build: read back from the records what the steps a
        previous attempt made left (the claim, volumes, names), so that
        resume_build() and rollback() know it."""

    def resume_build(self, inst: models.Instance) -> None:
        """The steps after the last one a previous attempt completed; each
        asks its agent again (every agent operation is idempotent)."""
        raise StepFailed(
            "resume",
            f"the scheduler running this {self.kind}'s build stopped and "
            "this build cannot be resumed; delete it and create it again",
        )
