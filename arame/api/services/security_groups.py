"""Security groups: records the API writes at once (201/200); a change of
rules is then applied live on every host with a member, as a task the
scheduler runs."""

import sqlalchemy as sa

from arame.api import pagination, tags
from arame.api.lookup import load_owned
from arame.api.services import names
from arame.api.services.scheduling import SchedulerCaster, dispatch
from arame.common import exceptions, ids, secgroup_rules, secgroups_db, tasks
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models


def to_dict(g: models.SecurityGroup, tag_list=()) -> dict:
    return {
        "id": g.id,
        "name": g.name,
        "account_id": g.account_id,
        "description": g.description,
        "rules_text": g.rules_text,
        "rules": g.rules,
        "tags": list(tag_list),
        "created_at": g.created_at,
        "updated_at": g.updated_at,
    }


def _parse(req) -> tuple[str, list[dict]] | None:
    """(rules_text, rules) from whichever form the request gave; None if
    it gave neither. The text is kept as written (comments and all); the
    JSON form gets its canonical text."""
    if req.rules_text is not None and req.rules is not None:
        raise exceptions.Invalid(
            "give rules_text or rules, not both", field="rules"
        )
    field = "rules_text" if req.rules_text is not None else "rules"
    try:
        if req.rules_text is not None:
            rules = secgroup_rules.parse_text(req.rules_text)
            return req.rules_text, secgroup_rules.to_json(rules)
        if req.rules is not None:
            rules = secgroup_rules.from_json(
                [r.model_dump(exclude_none=True) for r in req.rules]
            )
            return secgroup_rules.to_text(rules), secgroup_rules.to_json(rules)
    except secgroup_rules.RuleError as e:
        details = e.details()
        if field == "rules":
            # The path as the schema's own errors give it (0-based), plus
            # the rule's 1-based number the message uses.
            path = ["rules"]
            if e.index is not None:
                path.append(str(e.index - 1))
            if e.field is not None:
                path.append(e.field)
            details = {"index": e.index} if e.index is not None else {}
            field = ".".join(path)
        raise exceptions.Invalid(
            f"{field}: {e.message}", field=field, **details
        ) from None
    return None


def _check_references(
    s, account_id: str, rules: list[dict], field: str
) -> None:
    """Rules may name as a source only groups of the same account."""
    refs = secgroups_db.referenced_groups(rules)
    if not refs:
        return
    SG = models.SecurityGroup
    known = set(
        s.scalars(
            sa.select(SG.id).where(
                SG.id.in_(refs), SG.account_id == account_id
            )
        )
    )
    unknown = sorted(refs - known)
    if unknown:
        raise exceptions.Invalid(
            f"{field}: unknown security group {unknown[0]} (a rule may "
            "name a group of the same account only)",
            field=field,
            group_id=unknown[0],
        )


def _field(req) -> str:
    return "rules_text" if req.rules_text is not None else "rules"


def _name_taken(s, account_id: str, name: str) -> bool:
    SG = models.SecurityGroup
    return (
        s.scalar(
            sa.select(SG.id).where(
                SG.account_id == account_id, SG.name == name
            )
        )
        is not None
    )


class SecurityGroupService(SchedulerCaster):
    def _get(self, s, ctxt, group_id: str, rule: str) -> models.SecurityGroup:
        return load_owned(
            s, ctxt, models.SecurityGroup, "security_group", group_id, rule
        )

    def create(self, ctxt, req) -> dict:
        text, rules = _parse(req) or ("", [])
        now = models.utcnow()
        g = models.SecurityGroup(
            id=ids.generate("security_group"),
            name=req.name,
            account_id=ctxt.account_id,
            description=req.description,
            rules_text=text,
            rules=rules,
            created_at=now,
            updated_at=now,
        )
        try:
            with db_engine.session() as s:
                if _name_taken(s, ctxt.account_id, req.name):
                    raise exceptions.Conflict(
                        f"security group {req.name!r} already exists"
                    )
                _check_references(s, ctxt.account_id, rules, _field(req))
                s.add(g)
                s.flush()
                labels = tags.tag_new(s, g.id, req.tags)
        except sa.exc.IntegrityError:
            raise exceptions.Conflict(
                f"security group {req.name!r} already exists"
            ) from None
        return to_dict(g, labels)

    def get(self, ctxt, group_id: str) -> dict:
        with db_engine.session() as s:
            g = self._get(s, ctxt, group_id, "security_groups:get")
            return to_dict(g, tags.tags_of(s, [g.id])[g.id])

    def list(
        self, ctxt, *, name=None, limit=None, marker=None, sort=None, tag=None
    ) -> dict:
        # Every account has its default group; it shows from the first look.
        secgroups_db.ensure_default(ctxt.account_id)
        SG = models.SecurityGroup
        page = pagination.scoped_page(
            ctxt,
            tags.filter_by(sa.select(SG), SG.id, tag),
            SG,
            lambda g: g,
            account_column=SG.account_id,
            name_column=SG.name,
            name=name,
            marker=marker,
            limit=limit,
            sort=sort,
        )
        with db_engine.session() as s:
            labels = tags.tags_of(s, [g.id for g in page["items"]])
        page["items"] = [to_dict(g, labels[g.id]) for g in page["items"]]
        return page

    def update(self, ctxt, group_id: str, req) -> dict:
        parsed = _parse(req)
        if parsed is None and req.name is None and req.description is None:
            raise exceptions.Invalid(
                "nothing to change: give name, "
                "description, rules_text or rules"
            )
        with db_engine.session() as s:
            g = self._get(s, ctxt, group_id, "security_groups:update")
            if req.name is not None and req.name != g.name:
                if g.name == secgroups_db.DEFAULT_NAME:
                    raise exceptions.Conflict(
                        "the default group of an account keeps its name"
                    )
                if _name_taken(s, g.account_id, req.name):
                    raise exceptions.Conflict(
                        f"security group {req.name!r} already exists"
                    )
                g.name = req.name
            if req.description is not None:
                g.description = req.description
            if parsed is not None:
                _check_references(s, g.account_id, parsed[1], _field(req))
                g.rules_text, g.rules = parsed
                g.revision = (g.revision or 0) + 1
            g.updated_at = models.utcnow()
            labels = tags.tags_of(s, [g.id])[g.id]
            task = tasks.create(
                s,
                account_id=g.account_id,
                resource_id=g.id,
                resource_type="security_group",
                action="update",
                timeout_s=CONF.network.security_group_refresh_timeout,
                request_id=ctxt.request_id,
            )
        dispatch(
            lambda: self.scheduler.refresh_security_group(ctxt, task.id, g.id),
            task.id,
            unavailable="the message bus is not reachable; the rules are "
            "saved but not applied on the hosts: repeat the request",
        )
        out = to_dict(g, labels)
        out["task_id"] = task.id
        return out

    def delete(self, ctxt, group_id: str) -> None:
        ISG = models.InstanceSecurityGroup
        with db_engine.session() as s:
            g = self._get(s, ctxt, group_id, "security_groups:delete")
            if g.name == secgroups_db.DEFAULT_NAME:
                raise exceptions.Conflict(
                    "the default group of an account cannot be deleted"
                )
            members = secgroups_db.live_member_ids(s, g.id)
            if members:
                raise exceptions.Conflict(
                    f"security group {g.id} still has member instances: "
                    f"{', '.join(members[:10])}",
                    instances=members[:10],
                )
            referrers = secgroups_db.groups_referencing(s, g.id)
            if referrers:
                raise exceptions.Conflict(
                    f"security group {g.id} is a source in the rules of "
                    f"{', '.join(referrers)}",
                    security_groups=referrers,
                )
            # Terminated instances keep no claim on it.
            s.execute(
                sa.delete(ISG)
                .where(ISG.security_group_id == g.id)
                .execution_options(synchronize_session=False)
            )
            tags.delete_all(s, g.id)
            s.delete(g)


def for_instance(
    s, account_id: str, group_refs: list[str] | None, field="security_groups"
) -> list[str]:
    """The ids of the groups a new instance of `account_id` asks to join
    (by id or name), in the order asked (duplicates dropped): its own
    groups only (422 otherwise). None asked: [] (the caller gives the
    default group, made beforehand in a transaction of its own by
    secgroups_db.ensure_default)."""
    if not group_refs:
        return []
    SG = models.SecurityGroup
    wanted = list(
        dict.fromkeys(
            names.resolve(
                s,
                SG,
                "security_group",
                ref,
                visible=SG.account_id == account_id,
                field=field,
            ).id
            for ref in dict.fromkeys(group_refs)
        )
    )
    if len(wanted) > secgroups_db.MAX_PER_INSTANCE:
        raise exceptions.Invalid(
            f"{field}: at most {secgroups_db.MAX_PER_INSTANCE}",
            field=field,
        )
    return wanted
