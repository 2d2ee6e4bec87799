"""Making instances from a spec: what POST /v1/instances and a unit's nodes
share.

Three stages, so a caller can make many instances in one transaction of its
own: `prepare` resolves and checks the spec (every 422 before anything is
written), `make` writes the records and takes the quota for all of them at
once (a 429 or 409 writes nothing), `cast` hands each build to the scheduler
once the caller has committed.

Call `before` outside the caller's transaction first: it makes the rows an
account's first request needs (its quota row, its default security group)
in transactions of their own (see quotas.ensure_row).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from arame.api import tags as resource_tags
from arame.api.services import key_pairs, networks, security_groups
from arame.api.services import names as by_name
from arame.api.services.scheduling import dispatch
from arame.common import exceptions, ids, ipam, quotas, secgroups_db, states
from arame.common import tasks as tasks_db
from arame.common.conf import CONF
from arame.common.db import engine as db_engine
from arame.common.db import models

# As many keys as an instance's config drive carries.
MAX_KEY_PAIRS = 10


@dataclass
class Spec:
    """What a new instance is made of (names or ids for what it refers to)."""

    flavor: str
    image: str  # id, or a name visible to the account
    network: str | None = None  # id or name; None: the default network
    security_groups: list[str] | None = None  # None: the default group
    key_pairs: list[str] = field(default_factory=list)  # ids or names
    user_data: str | None = None
    root_gb: int | None = None  # None: the flavor's disk
    ha_enabled: bool = True
    provider: str | None = None  # if given, the flavor's provider


@dataclass
class Prepared:
    """A spec resolved for one account: the rows it names, checked."""

    account_id: str
    user_id: str | None
    flavor: models.Flavor
    image: models.Image
    network: models.Network | None
    group_ids: list[str]
    key_pairs: list[models.KeyPair]
    user_data: str | None
    root_gb: int | None
    ha_enabled: bool


@dataclass
class Made:
    instance: models.Instance
    ports: list[models.Port]
    groups: list[str]
    tags: list[str]
    task: models.Task


def default_hostname(name: str) -> str:
    h = re.sub(r"[^a-z0-9-]", "-", name.lower())[:63].strip("-")
    return h or "instance"


# Accounts whose quota row and default group this process has seen made
# (on this database): neither is ever deleted, so an account's every later
# request skips the two transactions that make sure of them.
_ready: set[tuple[str, str]] = set()
_READY_MAX = 100_000


def before(ctxt, spec: Spec | None = None) -> None:
    """The account's quota row and, if the spec takes it, its default
    security group, each in a transaction of its own: call outside the
    transaction that prepares and makes (concurrent first inserts inside
    a bigger InnoDB transaction deadlock)."""
    key = (str(db_engine.get_engine().url), ctxt.account_id)
    if key in _ready:
        return
    quotas.ensure_row(ctxt.account_id)
    if spec is None or not spec.security_groups:
        secgroups_db.ensure_default(ctxt.account_id)
        if len(_ready) >= _READY_MAX:
            _ready.clear()
        _ready.add(key)


def prepare(
    s,
    ctxt,
    spec: Spec,
    field_prefix: str = "",
    *,
    key_pairs_field: str = "key_pairs",
) -> Prepared:
    """Resolve and check `spec` for the caller's account: 422 naming the
    field (`field_prefix` + its name), 413 for too much user data."""

    def f(name: str) -> str:
        return field_prefix + name

    _check_user_data(spec.user_data, f("user_data"))
    F = models.Flavor
    flavor = s.scalar(sa.select(F).where(F.name == spec.flavor))
    if flavor is None:
        raise exceptions.Invalid(
            f"{f('flavor')}: unknown flavor {spec.flavor!r}",
            field=f("flavor"),
        )
    if spec.provider is not None and spec.provider != flavor.provider:
        raise exceptions.Invalid(
            f"{f('provider')}: flavor {flavor.name!r} is a "
            f"{flavor.provider!r} flavor, not {spec.provider!r}",
            field=f("provider"),
        )
    image = _image(s, ctxt.account_id, spec.image, f("image"))
    root_gb = _root_gb(spec.root_gb, flavor, f("root_gb"))
    kps = [
        key_pairs.public_key_for(
            s, ctxt.account_id, ref, field_prefix + key_pairs_field
        )
        for ref in dict.fromkeys(spec.key_pairs)
    ]
    kps = list({kp.id: kp for kp in kps}.values())  # a name and its id
    if len(kps) > MAX_KEY_PAIRS:
        raise exceptions.Invalid(
            f"{field_prefix + key_pairs_field}: at most "
            f"{MAX_KEY_PAIRS} key pairs",
            field=field_prefix + key_pairs_field,
        )
    network = networks.for_instance(
        s, ctxt.account_id, spec.network, f("network")
    )
    group_ids = security_groups.for_instance(
        s, ctxt.account_id, spec.security_groups, f("security_groups")
    ) or [_default_group(s, ctxt.account_id)]
    return Prepared(
        account_id=ctxt.account_id,
        user_id=ctxt.user_id,
        flavor=flavor,
        image=image,
        network=network,
        group_ids=group_ids,
        key_pairs=kps,
        user_data=spec.user_data,
        root_gb=root_gb,
        ha_enabled=spec.ha_enabled,
    )


def make(
    s,
    ctxt,
    prepared: Prepared,
    names: Sequence[str],
    ip_addresses: Sequence[str | None] = (),
    *,
    unit_id: str | None = None,
    parent_task_id: str | None = None,
    tags: Sequence[str] = (),
    hostnames: Sequence[str | None] | None = None,
) -> list[Made]:
    """Write one instance per name, in the caller's transaction, with its
    ports (the fixed address at the same index, if any), memberships, tags
    and build task (a child of `parent_task_id` if given).

    The quota for all of them is taken first: a 429 writes nothing."""
    names = list(names)
    ips = list(ip_addresses) or [None] * len(names)
    hosts = list(hostnames) if hostnames is not None else [None] * len(names)
    if not (len(ips) == len(hosts) == len(names)):
        raise ValueError("one ip address and hostname per name")
    p = prepared
    if p.network is None and any(ip is not None for ip in ips):
        raise exceptions.Invalid(
            "ip_address: give the network it belongs to (there is no "
            "default network)",
            field="ip_address",
        )
    if not names:
        return []
    _take_quota(s, p, len(names))
    made = []
    for name, ip, hostname in zip(names, ips, hosts, strict=True):
        made.append(
            _make_one(
                s, ctxt, p, name, ip, hostname, unit_id, parent_task_id, tags
            )
        )
    return made


def cast(ctxt, made: Sequence[Made], scheduler) -> None:
    """Hand each build to the scheduler, after the records are committed.
    A cast the bus refuses fails that build's task and instance and
    answers 503 (those before it are on their way)."""
    for m in made:
        task_id, inst_id = m.task.id, m.instance.id
        provider = m.instance.provider
        dispatch(
            lambda t=task_id, i=inst_id, p=provider: scheduler.build_instance(
                ctxt, t, i, p
            ),
            task_id,
            (models.Instance, inst_id, ("pending",)),
        )


# -- the parts ---------------------------------------------------------------
def _check_user_data(user_data: str | None, fld: str) -> None:
    limit = CONF.api.max_user_data_bytes
    if user_data is None:
        return
    size = len(user_data.encode())
    if size > limit:
        raise exceptions.TooLarge(
            f"{fld} is {size} bytes; the limit is {limit}",
            field=fld,
            limit=limit,
        )


def _image(s, account_id: str, ref: str, fld: str) -> models.Image:
    I = models.Image
    image = by_name.resolve(
        s,
        I,
        "image",
        ref,
        visible=sa.and_(
            sa.or_(I.visibility == "public", I.account_id == account_id),
            I.status != "deleted",
        ),
        field=fld,
    )
    if image.status != "available":
        raise exceptions.Invalid(
            f"{fld}: {image.id} is {image.status}, not available",
            field=fld,
        )
    return image


def _root_gb(root_gb: int | None, flavor: models.Flavor, fld: str):
    if root_gb is None or root_gb == flavor.disk_gb:
        return None
    if root_gb < flavor.disk_gb:
        raise exceptions.Invalid(
            f"{fld}: {root_gb} GB is smaller than flavor {flavor.name!r}'s "
            f"disk ({flavor.disk_gb} GB)",
            field=fld,
        )
    if root_gb > CONF.api.max_root_gb:
        raise exceptions.Invalid(
            f"{fld}: {root_gb} GB is over the limit of "
            f"{CONF.api.max_root_gb} GB",
            field=fld,
        )
    return root_gb


def _default_group(s, account_id: str) -> str:
    SG = models.SecurityGroup
    gid = s.scalar(
        sa.select(SG.id).where(
            SG.account_id == account_id,
            SG.name == secgroups_db.DEFAULT_NAME,
        )
    )
    # `before` made it; a caller that did not gets it made now.
    return gid or secgroups_db.ensure_default(account_id)


def _take_quota(s, p: Prepared, count: int) -> None:
    want = {
        "instances": count,
        "vcpus": count * p.flavor.vcpus,
        "memory_mb": count * p.flavor.memory_mb,
    }
    if p.root_gb is not None:
        # A root the user sized counts as storage they chose (as a volume
        # they boot from does); the flavor's own disk does not.
        want["storage_gb"] = count * p.root_gb
    # In the transaction that writes the instances: a 429 writes nothing,
    # and concurrent requests cannot overshoot.
    quotas.take(s, p.account_id, want)


def _make_one(
    s, ctxt, p: Prepared, name, ip, hostname, unit_id, parent_task_id, labels
) -> Made:
    now = models.utcnow()
    flavor = p.flavor
    inst = models.Instance(
        id=ids.generate("instance"),
        name=name,
        hostname=hostname or default_hostname(name),
        account_id=p.account_id,
        user_id=p.user_id,
        flavor=flavor.name,
        image_id=p.image.id,
        provider=flavor.provider,
        vcpus=flavor.vcpus,
        memory_mb=flavor.memory_mb,
        # What a host gives a local root; a bare-metal root is on storage
        # always, and the node's own disk stays the flavor's.
        disk_gb=(
            p.root_gb or flavor.disk_gb
            if flavor.provider == "vm"
            else flavor.disk_gb
        ),
        root_gb=p.root_gb,
        status=states.INSTANCE.initial,
        ha_enabled=p.ha_enabled,
        user_data=p.user_data,
        key_pair_id=p.key_pairs[0].id if p.key_pairs else None,
        key_pair_ids=(
            [kp.id for kp in p.key_pairs] if len(p.key_pairs) > 1 else None
        ),
        unit_id=unit_id,
        quota_held=True,
        created_at=now,
        updated_at=now,
    )
    s.add(inst)
    s.flush()
    if p.root_gb is not None:
        quotas.hold_root(s, inst)
    # In the same transaction: a taken fixed address or a full network is
    # a 409 before the 202, and writes nothing.
    ports = (
        [ipam.allocate(s, p.network, inst.id, inst.hostname, ip)]
        if p.network is not None
        else []
    )
    secgroups_db.set_membership(s, inst.id, p.group_ids)
    labels = resource_tags.tag_new(s, inst.id, labels)
    task = tasks_db.create(
        s,
        account_id=p.account_id,
        resource_id=inst.id,
        resource_type="instance",
        action="create",
        timeout_s=CONF.scheduler.build_timeout,
        request_id=ctxt.request_id,
    )
    if parent_task_id is not None:
        task.parent_id = parent_task_id
    return Made(
        instance=inst,
        ports=ports,
        groups=list(p.group_ids),
        tags=labels,
        task=task,
    )


__all__ = [
    "Made",
    "Prepared",
    "Spec",
    "before",
    "cast",
    "default_hostname",
    "make",
    "prepare",
]
