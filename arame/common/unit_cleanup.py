"""What ends with a unit's or a group's delete task, in its transaction.

Rows go only when every node's delete succeeded: then the group or unit is
gone (its name free again). A node that failed to go keeps its unit and
group, back to `active`, so the user sees the error and can delete again.
"""

import sqlalchemy as sa

from arame.common.db import models

U = models.Unit
G = models.UnitGroup


def group_cleaned(s, parent: models.Task, succeeded: bool) -> None:
    if not succeeded:
        _reactivate(s, G, parent.resource_id)
        _reactivate_units(s, U.unit_group_id == parent.resource_id)
        return
    s.execute(sa.delete(U).where(U.unit_group_id == parent.resource_id))
    s.execute(sa.delete(G).where(G.id == parent.resource_id))


def unit_deleted(s, parent: models.Task, succeeded: bool) -> None:
    if not succeeded:
        _reactivate_units(s, U.id == parent.resource_id)
        return
    s.execute(sa.delete(U).where(U.id == parent.resource_id))


def _reactivate(s, model, row_id: str) -> None:
    s.execute(
        sa.update(model)
        .where(model.id == row_id, model.status == "deleting")
        .values(status="active", updated_at=models.utcnow())
    )


def _reactivate_units(s, where) -> None:
    s.execute(
        sa.update(U)
        .where(where, U.status == "deleting")
        .values(status="active", updated_at=models.utcnow())
    )
