"""The controller's records (SQLAlchemy 2 declarative models): the reference
the alembic migrations (arame/common/db/migrations) are checked against."""

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

if TYPE_CHECKING:  # the models import no agent code at run time
    from arame.agents.bma.messages import Node as BMANode

# MySQL's DATETIME drops fractions of a second unless asked; durations and
# heartbeat ages need them.
Timestamp = sa.DateTime().with_variant(
    mysql.DATETIME(fsp=6), "mysql", "mariadb"
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: Timestamp}


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        default=utcnow, onupdate=utcnow
    )


class Setting(Base):
    """Cloud-wide values generated once (the token signing key)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255))


class Account(TimestampMixin, Base):
    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(63), unique=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    # Deleted accounts keep their row: instances, tasks and usage of the
    # past still point at it.
    deleted_at: Mapped[dt.datetime | None]


class User(TimestampMixin, Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(63), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id"))
    role: Mapped[str] = mapped_column(sa.String(16))
    enabled: Mapped[bool] = mapped_column(default=True)
    # Bumped to revoke every token issued before (tokens carry it).
    token_generation: Mapped[int] = mapped_column(default=0)


class Service(TimestampMixin, Base):
    """A running daemon, keyed by (host, binary)."""

    __tablename__ = "services"
    __table_args__ = (sa.UniqueConstraint("host", "binary"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    host: Mapped[str] = mapped_column(sa.String(255))
    binary: Mapped[str] = mapped_column(sa.String(64))
    topic: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[str] = mapped_column(sa.String(32))
    # The RPC API version its manager serves ("1.4"); null: a service
    # from before it was reported. [upgrade_levels] "auto" caps messages
    # at the oldest running one's (arame.common.rpc.version_cap).
    rpc_version: Mapped[str | None] = mapped_column(sa.String(16))
    last_heartbeat_at: Mapped[dt.datetime | None]
    disabled: Mapped[bool] = mapped_column(default=False)


class Host(TimestampMixin, Base):
    """A hypervisor host and its capacity; *_used are the scheduler's claims."""

    __tablename__ = "hosts"
    # Each scheduler's host cache reads the rows changed since its last
    # read (scheduler/host_cache.py).
    __table_args__ = (sa.Index("ix_hosts_updated_at", "updated_at"),)
    id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    provider: Mapped[str] = mapped_column(sa.String(8), default="vm")
    hypervisor_type: Mapped[str] = mapped_column(sa.String(32))
    vcpus: Mapped[int] = mapped_column(default=0)
    memory_mb: Mapped[int] = mapped_column(default=0)
    disk_gb: Mapped[int] = mapped_column(default=0)
    vcpus_used: Mapped[int] = mapped_column(default=0)
    memory_mb_used: Mapped[int] = mapped_column(default=0)
    disk_gb_used: Mapped[int] = mapped_column(default=0)
    instance_count: Mapped[int] = mapped_column(default=0)
    enabled: Mapped[bool] = mapped_column(default=True)
    # Out of service for work on it: no new work, guests stay (as disabled).
    maintenance: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false()
    )
    maintenance_reason: Mapped[str | None] = mapped_column(sa.String(255))
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(255))
    # The user who last changed enabled or maintenance.
    state_changed_by: Mapped[str | None] = mapped_column(sa.String(64))
    # Where storage nodes see this host's iSCSI initiator (their ACLs).
    storage_address: Mapped[str | None] = mapped_column(sa.String(45))
    last_report_at: Mapped[dt.datetime | None]
    # The BMC that can cut this host's power before its instances are
    # evacuated (scheduler/fencing.py); null address: none. The password
    # is sealed (common/secretbox) and never leaves through the API.
    bmc_address: Mapped[str | None] = mapped_column(sa.String(253))
    bmc_port: Mapped[int | None]
    bmc_username: Mapped[str | None] = mapped_column(sa.String(16))
    bmc_password: Mapped[str | None] = mapped_column(sa.String(255))
    bmc_interface: Mapped[str | None] = mapped_column(sa.String(8))


class Quota(TimestampMixin, Base):
    """An account's limits (null: the [quota] default) and what it holds.

    Creation takes from `*_used` with one conditional UPDATE that checks the
    limits in the same statement, so concurrent requests cannot overshoot;
    termination gives back once (the instance's `quota_held` flag).
    """

    __tablename__ = "quotas"
    account_id: Mapped[str] = mapped_column(
        sa.ForeignKey("accounts.id"), primary_key=True
    )
    instances: Mapped[int | None]
    vcpus: Mapped[int | None]
    memory_mb: Mapped[int | None]
    instances_used: Mapped[int] = mapped_column(default=0)
    vcpus_used: Mapped[int] = mapped_column(default=0)
    memory_mb_used: Mapped[int] = mapped_column(default=0)
    # Data volumes made through /v1/volumes (an instance's root volume is
    # part of its flavor's disk and counts under the instance limits).
    volumes: Mapped[int | None]
    storage_gb: Mapped[int | None]
    volumes_used: Mapped[int] = mapped_column(default=0)
    storage_gb_used: Mapped[int] = mapped_column(default=0)
    floating_ips: Mapped[int | None]
    floating_ips_used: Mapped[int] = mapped_column(default=0)


class QuotaHold(Base):
    """What one resource holds of its account's quota (a volume: 1 volume
    and its size). The give-back deletes the row and subtracts only if that
    DELETE removed it, so it happens once however often it is asked."""

    __tablename__ = "quota_holds"
    resource_id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    account_id: Mapped[str] = mapped_column(sa.String(16))
    volumes: Mapped[int] = mapped_column(default=0)
    storage_gb: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class StorageNode(TimestampMixin, Base):
    """A storage node's pool as its agent (arame-sta) last reported it in
    its heartbeat; volume placement checks a new volume against it."""

    __tablename__ = "storage_nodes"
    name: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    pool: Mapped[str | None] = mapped_column(sa.String(64))
    volume_mode: Mapped[str | None] = mapped_column(sa.String(8))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    free_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    allocated_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    provisioned_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    reported_at: Mapped[dt.datetime]


class Flavor(TimestampMixin, Base):
    __tablename__ = "flavors"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(sa.String(63), unique=True)
    provider: Mapped[str] = mapped_column(sa.String(8), default="vm")
    vcpus: Mapped[int]
    memory_mb: Mapped[int]
    disk_gb: Mapped[int]


class Image(TimestampMixin, Base):
    __tablename__ = "images"
    id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(63))
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id"))
    visibility: Mapped[str] = mapped_column(sa.String(16), default="private")
    format: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    status_reason: Mapped[str | None] = mapped_column(sa.String(255))
    size_bytes: Mapped[int | None] = mapped_column(sa.BigInteger)
    sha256: Mapped[str | None] = mapped_column(sa.String(64))


class Volume(TimestampMixin, Base):
    """A block device on a storage node (a ZFS dataset or zvol), exported
    over iSCSI to the host that uses it. An instance's root volume is one
    too (`root_of`), made by its build and removed by its delete."""

    __tablename__ = "volumes"
    id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(63))
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id"))
    size_gb: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    status_reason: Mapped[str | None] = mapped_column(sa.String(255))
    image_id: Mapped[str | None] = mapped_column(sa.String(16))
    snapshot_id: Mapped[str | None] = mapped_column(sa.String(16))
    storage_node: Mapped[str | None] = mapped_column(sa.String(255))
    instance_id: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    root_of: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    # Per-volume CHAP, generated by the controller; travels only in the
    # RPC messages to sta (the target) and hva (a libvirt secret).
    chap_user: Mapped[str | None] = mapped_column(sa.String(64))
    chap_secret: Mapped[str | None] = mapped_column(sa.String(64))
    export_iqn: Mapped[str | None] = mapped_column(sa.String(223))
    export_portal: Mapped[str | None] = mapped_column(sa.String(64))
    # The guest's disk (vdb, vdc ...) while attached to `instance_id` as a
    # data volume; hva picks it, free in the domain.
    device: Mapped[str | None] = mapped_column(sa.String(8))
    deleted_at: Mapped[dt.datetime | None]


class ImageLocation(Base):
    """Which storage node holds an image's bytes as a dataset + snapshot
    (volumes from the image are clones there)."""

    __tablename__ = "image_locations"
    image_id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    storage_node: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class KeyPair(TimestampMixin, Base):
    """An SSH public key an account's instances can be given (the private
    key of a generated pair is returned once and never stored)."""

    __tablename__ = "key_pairs"
    __table_args__ = (sa.UniqueConstraint("account_id", "name"),)
    id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(63))
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id"))
    user_id: Mapped[str | None] = mapped_column(sa.String(16))
    type: Mapped[str] = mapped_column(sa.String(32))
    public_key: Mapped[str] = mapped_column(sa.Text)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))


class Instance(TimestampMixin, Base):
    __tablename__ = "instances"
    __table_args__ = (
        sa.Index("ix_instances_account_status", "account_id", "status"),
        sa.Index("ix_instances_host", "host"),
    )
    id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(63))
    hostname: Mapped[str] = mapped_column(sa.String(63))
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id"))
    user_id: Mapped[str | None] = mapped_column(sa.String(16))
    flavor: Mapped[str] = mapped_column(sa.String(63))
    image_id: Mapped[str] = mapped_column(sa.String(16))
    provider: Mapped[str] = mapped_column(sa.String(8), default="vm")
    vcpus: Mapped[int]
    memory_mb: Mapped[int]
    disk_gb: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    status_reason: Mapped[str | None] = mapped_column(sa.String(255))
    power_state: Mapped[str | None] = mapped_column(sa.String(16))
    # Set together with the host's *_used columns by the claim, cleared with
    # them by the release: the release happens once however often it is asked.
    host: Mapped[str | None] = mapped_column(sa.String(255))
    claimed: Mapped[bool] = mapped_column(default=False)
    ha_enabled: Mapped[bool] = mapped_column(default=True)
    # MEDIUMTEXT: MySQL's TEXT stops at 64 KiB, user data goes to 96 KiB.
    user_data: Mapped[str | None] = mapped_column(
        sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
    )
    key_pair_id: Mapped[str | None] = mapped_column(sa.String(16))
    quota_held: Mapped[bool] = mapped_column(default=False)
    terminated_at: Mapped[dt.datetime | None]
    # A `bm` instance: the bare-metal node its claim holds.
    node_id: Mapped[str | None] = mapped_column(sa.String(16))
    # A node of a unit (its spec made this instance).
    unit_id: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    # A root disk larger than the flavor's (null: the flavor's disk_gb).
    root_gb: Mapped[int | None]
    # Every key pair given at create, in order (null: key_pair_id alone).
    key_pair_ids: Mapped[list | None] = mapped_column(sa.JSON)


class Network(TimestampMixin, Base):
    """A tenant network: an address plan (IPv4 now; addresses are kept as
    strings so IPv6 fits later) on one L2 segment (VXLAN VNI or VLAN id)."""

    __tablename__ = "networks"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "name"),
        sa.UniqueConstraint("segmentation", "segment_id"),
    )
    id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(63))
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id"))
    # Visible to and usable by every account (only an admin makes one).
    shared: Mapped[bool] = mapped_column(default=False)
    ip_version: Mapped[int] = mapped_column(default=4)
    cidr: Mapped[str] = mapped_column(sa.String(49))
    gateway: Mapped[str] = mapped_column(sa.String(45))
    dns_domain: Mapped[str] = mapped_column(sa.String(253))
    # [[first, last], ...]: the addresses IPAM hands out.
    dhcp_ranges: Mapped[list] = mapped_column(sa.JSON)
    # vxlan, vlan, or flat (external networks only: no segment id; NULLs
    # never collide in the unique key).
    segmentation: Mapped[str] = mapped_column(sa.String(8))
    segment_id: Mapped[int | None]
    mtu: Mapped[int]
    # A router's way out: its dhcp_ranges are the floating pool, it has no
    # DHCP, no instance joins it; `physical_network` names the [l3]
    # device that carries it on the network hosts.
    external: Mapped[bool] = mapped_column(default=False)
    physical_network: Mapped[str | None] = mapped_column(sa.String(32))
    # Where dnsmasq listens (the gateway belongs to the router). NULL on
    # networks made before routers: dnsmasq stays on the gateway, and
    # such a network cannot join a router.
    dhcp_address: Mapped[str | None] = mapped_column(sa.String(45))


class Port(Base):
    """One NIC of an instance on a network: its address and MAC.

    The unique keys are the allocation's lock: two requests that pick the
    same address (or MAC) cannot both insert it, the loser tries another.
    """

    __tablename__ = "ports"
    __table_args__ = (
        sa.UniqueConstraint("network_id", "ip_address"),
        sa.UniqueConstraint("mac_address"),
        sa.Index("ix_ports_instance", "instance_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    network_id: Mapped[str] = mapped_column(sa.ForeignKey("networks.id"))
    instance_id: Mapped[str] = mapped_column(sa.ForeignKey("instances.id"))
    ip_address: Mapped[str] = mapped_column(sa.String(45))
    mac_address: Mapped[str] = mapped_column(sa.String(17))
    hostname: Mapped[str] = mapped_column(sa.String(63))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SecurityGroup(TimestampMixin, Base):
    """Firewall rules for the instances that are members; members of one
    group always reach each other."""

    __tablename__ = "security_groups"
    __table_args__ = (sa.UniqueConstraint("account_id", "name"),)
    id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(63))
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id"))
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    # Both forms are kept: the text as its author wrote it (comments
    # included) and the parsed rules the hosts apply.
    rules_text: Mapped[str] = mapped_column(sa.Text, default="")
    rules: Mapped[list] = mapped_column(sa.JSON)
    # Moved by every change of the rules: a host given two versions of a
    # group keeps the newer (hva firewall, one chain per group).
    revision: Mapped[int] = mapped_column(default=0, server_default="0")


class InstanceSecurityGroup(Base):
    __tablename__ = "instance_security_groups"
    __table_args__ = (
        sa.Index("ix_instance_security_groups_group", "security_group_id"),
    )
    instance_id: Mapped[str] = mapped_column(
        sa.ForeignKey("instances.id"), primary_key=True
    )
    security_group_id: Mapped[str] = mapped_column(
        sa.ForeignKey("security_groups.id"), primary_key=True
    )
    # The order the instance asked for its groups in.
    position: Mapped[int] = mapped_column(default=0)


class Task(TimestampMixin, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        sa.Index("ix_tasks_resource", "resource_id"),
        sa.Index("ix_tasks_account_created", "account_id", "created_at"),
        sa.Index("ix_tasks_status_deadline", "status", "deadline_at"),
        sa.Index("ix_tasks_status_lease", "status", "lease_until"),
    )
    id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    account_id: Mapped[str] = mapped_column(sa.String(16))
    resource_id: Mapped[str] = mapped_column(sa.String(16))
    resource_type: Mapped[str] = mapped_column(sa.String(32))
    action: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(16), default="queued")
    step: Mapped[str | None] = mapped_column(sa.String(64))
    error_step: Mapped[str | None] = mapped_column(sa.String(64))
    error_message: Mapped[str | None] = mapped_column(sa.String(1024))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    deadline_at: Mapped[dt.datetime]
    # Who runs it, until when, how often begun (scheduler/leases.py).
    owner: Mapped[str | None] = mapped_column(sa.String(64))
    lease_until: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # A task made of other tasks (one per node of a unit) counts them in
    # `children`; it has no flow of its own and ends when they all have
    # (common/task_tree.py). Each child names it in `parent_id`.
    parent_id: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    children: Mapped[int | None]
    events: Mapped[list["TaskEvent"]] = relationship(
        order_by="TaskEvent.id", lazy="selectin"
    )


class TaskEvent(Base):
    __tablename__ = "task_events"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(sa.ForeignKey("tasks.id"), index=True)
    step: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[float | None]
    host: Mapped[str | None] = mapped_column(sa.String(255))
    message: Mapped[str | None] = mapped_column(sa.String(1024))


class UsageRecord(Base):
    """The universal log a billing system reads: one `open` and one `close`
    per resource lifetime, append-only. The unique key makes a repeated
    message a no-op, so each record exists exactly once."""

    __tablename__ = "usage_records"
    __table_args__ = (
        sa.UniqueConstraint("resource_id", "event"),
        sa.Index("ix_usage_account_at", "account_id", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(sa.String(16))
    resource_id: Mapped[str] = mapped_column(sa.String(16))
    resource_type: Mapped[str] = mapped_column(sa.String(32))
    event: Mapped[str] = mapped_column(sa.String(8))
    flavor: Mapped[str | None] = mapped_column(sa.String(63))
    vcpus: Mapped[int | None]
    memory_mb: Mapped[int | None]
    # Volumes: the size billed as GB-hours.
    size_gb: Mapped[int | None]
    at: Mapped[dt.datetime]


class IdempotencyKey(Base):
    """The first answer to a POST carrying an Idempotency-Key (kept 24 h)."""

    __tablename__ = "idempotency_keys"
    account_id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int | None]
    body: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Snapshot(TimestampMixin, Base):
    """A point-in-time copy of a volume, on the volume's storage node (a ZFS
    snapshot); volumes made from it are clones there, on the same node."""

    __tablename__ = "snapshots"
    id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(63))
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id"))
    volume_id: Mapped[str] = mapped_column(sa.String(16), index=True)
    size_gb: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    status_reason: Mapped[str | None] = mapped_column(sa.String(255))
    storage_node: Mapped[str | None] = mapped_column(sa.String(255))
    deleted_at: Mapped[dt.datetime | None]


class ResourceTag(Base):
    """A user's label on a resource (any kind: the id's prefix says which);
    lists filter on them. Removed with the resource by its service."""

    __tablename__ = "resource_tags"
    __table_args__ = (sa.Index("ix_resource_tags_tag", "tag", "resource_id"),)
    resource_id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    # Compared byte for byte on MariaDB too (whose default collation would
    # make "Web" and "web" one tag): the pattern allows ASCII only.
    tag: Mapped[str] = mapped_column(
        sa.String(63).with_variant(
            mysql.VARCHAR(63, charset="ascii", collation="ascii_bin"),
            "mysql",
            "mariadb",
        ),
        primary_key=True,
    )


class BaremetalNode(TimestampMixin, Base):
    """A bare-metal server the cloud manages through its BMC (IPMI).

    `instance_id` is the claim: set with provision_state `deploying` by one
    conditional UPDATE (claims are compare-and-set, as for hosts).
    """

    __tablename__ = "baremetal_nodes"
    __table_args__ = (
        sa.Index("ix_baremetal_nodes_state", "provision_state", "maintenance"),
    )
    id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(63), unique=True)
    bmc_address: Mapped[str] = mapped_column(sa.String(253))
    bmc_port: Mapped[int] = mapped_column(default=623)
    bmc_username: Mapped[str] = mapped_column(sa.String(16))
    # Sealed (common/secretbox): the agents need it in clear (ipmitool),
    # a database dump alone must not give it. It leaves the controller
    # only in RPC messages to bma; the API never returns it, nothing logs it.
    bmc_password: Mapped[str] = mapped_column(sa.String(255))
    bmc_interface: Mapped[str] = mapped_column(sa.String(8), default="lanplus")
    # The bma agent that drives this BMC (null: any live one, chosen and
    # recorded by the first task that needs it).
    bma_host: Mapped[str | None] = mapped_column(sa.String(255))
    macs: Mapped[list] = mapped_column(sa.JSON)
    cpus: Mapped[int]
    memory_mb: Mapped[int]
    disk_gb: Mapped[int]
    # The bm flavor this node serves (null: any bm flavor it fits).
    resource_class: Mapped[str | None] = mapped_column(sa.String(63))
    provision_state: Mapped[str] = mapped_column(
        sa.String(16), default="enroll"
    )
    status_reason: Mapped[str | None] = mapped_column(sa.String(255))
    maintenance: Mapped[bool] = mapped_column(default=False)
    maintenance_reason: Mapped[str | None] = mapped_column(sa.String(255))
    power_state: Mapped[str | None] = mapped_column(sa.String(16))
    instance_id: Mapped[str | None] = mapped_column(sa.String(16), index=True)

    def bmc_message(self) -> "BMANode":
        """The node as bma's RPC calls take it (credentials included: the
        agent holds none of its own)."""
        from arame.common import secretbox  # models stay free of config

        return {
            "id": self.id,
            "bmc_address": self.bmc_address,
            "bmc_port": self.bmc_port,
            "bmc_username": self.bmc_username,
            "bmc_password": secretbox.unseal(self.bmc_password),
            "interface": self.bmc_interface,
        }


# Unit groups and units, in a module of their own; here so that
# `models.Unit` is found with the others (and its tables are in metadata).
# Routers and floating IPs (issue 12), likewise.
# Evacuation (issue 13), likewise.
from arame.common.db.evacuation_models import (  # noqa: E402,F401
    HostEvacuation,
    InstanceEvacuation,
    LeaderLease,
)
from arame.common.db.routing_models import (  # noqa: E402,F401
    FloatingIp,
    Router,
    RouterInterface,
)
from arame.common.db.unit_models import Unit, UnitGroup  # noqa: E402,F401
