"""Tags on resources: one table for every kind (a tag row names its
resource by id), read in one query per page, replaced as a whole.

Services call `tag_new` when they create a resource, `tags_of` when they
show a page, `filter_by` for `?tag=`, `delete_all` with the resource, and
routes call `replace` for `PUT /v1/<resources>/{id}/tags`.
"""

import re
from typing import Annotated

import sqlalchemy as sa
from fastapi import Query

from arame.api.lookup import load_owned
from arame.api.schemas.common import MAX_TAGS, TAG_PATTERN, Tag
from arame.common import exceptions
from arame.common.db import engine as db_engine
from arame.common.db import models, prepared

# `?tag=a&tag=b`: resources carrying every one of them (each a Tag, so the
# document shows the pattern a filter must match).
TagQuery = Annotated[
    list[Tag] | None,
    Query(
        max_length=MAX_TAGS, description="only resources with all these tags"
    ),
]


def _normalize(tags) -> list[str]:
    # The schema checked each tag; the order asked is kept, twins dropped.
    return list(dict.fromkeys(tags or ()))


def set_tags(s, resource_id: str, tags) -> list[str]:
    """Replace the tags of `resource_id` in session `s`; the new list."""
    delete_all(s, resource_id)
    return tag_new(s, resource_id, tags)


def tag_new(s, resource_id: str, tags) -> list[str]:
    """The tags of a resource made in session `s` (it has none yet: no
    delete first); the list."""
    wanted = _normalize(tags)
    RT = models.ResourceTag
    s.add_all(RT(resource_id=resource_id, tag=t) for t in wanted)
    s.flush()
    return sorted(wanted)


def delete_all(s, resource_id: str) -> None:
    RT = models.ResourceTag
    s.execute(
        sa.delete(RT)
        .where(RT.resource_id == resource_id)
        .execution_options(synchronize_session=False)
    )


def tags_of(s, resource_ids) -> dict[str, list[str]]:
    """{id: sorted tags} for every id asked (an untagged one maps to [])."""
    ids = list(resource_ids)
    out: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        for rid, tag in s.execute(_TAGS_OF, prepared.params(ids=ids)):
            out[rid].append(tag)
    return out


# Every read of a tagged resource runs it: built once (db/prepared.py).
_RT = models.ResourceTag.__table__
_TAGS_OF = (
    sa.select(_RT.c.resource_id, _RT.c.tag)
    .where(_RT.c.resource_id.in_(prepared.bound_list("ids")))
    .order_by(_RT.c.resource_id, _RT.c.tag)
)


def filter_by(stmt, id_column, tags):
    """`stmt` narrowed to rows whose id carries every tag in `tags`."""
    RT = models.ResourceTag
    for tag in _normalize(tags):
        if not re.match(TAG_PATTERN, tag):
            # Cannot be on any resource: a malformed filter is the
            # caller's mistake, not an empty answer.
            raise exceptions.Invalid(
                f"tag: {tag!r} is not a valid tag", field="tag"
            )
        stmt = stmt.where(
            id_column.in_(sa.select(RT.resource_id).where(RT.tag == tag))
        )
    return stmt


def replace(ctxt, model, kind: str, resource_id: str, rule: str, tags) -> dict:
    """PUT .../{id}/tags on a resource the caller owns (or an admin)."""
    with db_engine.session() as s:
        load_owned(s, ctxt, model, kind, resource_id, rule)
        return {"id": resource_id, "tags": set_tags(s, resource_id, tags)}


__all__ = [
    "TagQuery",
    "delete_all",
    "filter_by",
    "replace",
    "set_tags",
    "tags_of",
]
