"""Volumes and snapshots alike: records that stay readable once deleted,
belong to an account and change through tasks. Their lookup, their lists
and the start of a delete."""

import sqlalchemy as sa

from arame.api import pagination, policy, tags
from arame.common import exceptions, ids, states, tasks
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models


def load_record(s, ctxt, model, kind: str, obj_id: str, rule: str):
    """As lookup.load_owned, except that a deleted record stays readable
    (GET shows `deleted`, as an instance shows `terminated`)."""
    row = s.get(model, obj_id) if ids.is_valid(kind, obj_id) else None
    what = f"{kind} {obj_id}"
    if row is None:
        raise exceptions.NotFound(f"{what} not found")
    policy.enforce_owned(ctxt, rule, row.account_id, what)
    return row


def list_records(
    ctxt,
    model,
    to_dict,
    all_accounts_rule: str,
    *,
    status=None,
    name=None,
    account_id=None,
    limit=None,
    marker=None,
    sort=None,
    tag=None,
    tagged=False,
    **equal,
) -> dict:
    """A page of the caller's records (an admin's: every account's, or
    `account_id`'s); deleted ones only when `status=deleted` is asked.
    `tagged`: the records carry tags (shown, and `tag=` filters on them)."""
    M = model
    stmt = sa.select(M)
    if account_id and account_id != ctxt.account_id:
        policy.enforce(ctxt, all_accounts_rule)
        stmt = stmt.where(M.account_id == account_id)
    elif not ctxt.is_admin or account_id:
        stmt = stmt.where(M.account_id == ctxt.account_id)
    stmt = stmt.where(M.status == status if status else M.status != "deleted")
    if name:
        stmt = stmt.where(pagination.name_filter(M.name, name))
    for column, value in equal.items():
        if value:
            stmt = stmt.where(getattr(M, column) == value)
    if tagged and tag:
        stmt = tags.filter_by(stmt, M.id, tag)
    with db_engine.session() as s:
        rows, nxt = pagination.page(s, stmt, M, marker, limit, sort=sort)
        if not tagged:
            return {"items": [to_dict(r) for r in rows], "next_marker": nxt}
        labels = tags.tags_of(s, [r.id for r in rows])
        return {
            "items": [{**to_dict(r), "tags": labels[r.id]} for r in rows],
            "next_marker": nxt,
        }


def start_delete(s, ctxt, kind: str, row, **values) -> models.Task:
    """CAS the record to deleting from where the table allows it (409
    otherwise) and write the task, in the caller's transaction."""
    M = type(row)
    src = states.RECORD_TASKS[kind]["delete"].src
    rc = s.execute(
        sa.update(M)
        .where(M.id == row.id, M.status.in_(src))
        .values(
            status="deleting",
            status_reason=None,
            updated_at=models.utcnow(),
            **values,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if rc != 1:
        s.refresh(row)
        raise exceptions.Conflict(
            f"cannot delete {kind} {row.id} while it is {row.status}; it "
            f"must be one of: {', '.join(src)}",
            status=row.status,
        )
    return tasks.create(
        s,
        account_id=row.account_id,
        resource_id=row.id,
        resource_type=kind,
        action="delete",
        timeout_s=CONF.scheduler.delete_timeout,
        request_id=ctxt.request_id,
    )
