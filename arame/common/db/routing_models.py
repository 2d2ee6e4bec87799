"""Routers and floating IPs (issue 12): their tables.

A router joins tenant networks (router_interfaces) and may have an
external network as its gateway; its external address and every floating
IP are rows of floating_ips, whose UNIQUE(network_id, address) is the
allocation's lock, as ports' is for instance addresses.
"""

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from arame.common.db.models import Base, TimestampMixin, utcnow


class Router(TimestampMixin, Base):
    """A network namespace on an l3 host (`host`, chosen by the flow the
    first time it applies the router)."""

    __tablename__ = "routers"
    __table_args__ = (sa.UniqueConstraint("account_id", "name"),)
    id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(sa.String(63))
    host: Mapped[str | None] = mapped_column(sa.String(255))
    gateway_network_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("networks.id")
    )
    gateway_address: Mapped[str | None] = mapped_column(sa.String(45))
    # active | building | error | deleting
    status: Mapped[str] = mapped_column(sa.String(16), default="building")
    error: Mapped[str | None] = mapped_column(sa.String(255))


class RouterInterface(Base):
    """A tenant network attached to a router; the router holds the
    network's gateway address on it. A network joins one router at most
    (the unique key settles two requests racing for it)."""

    __tablename__ = "router_interfaces"
    router_id: Mapped[str] = mapped_column(
        sa.ForeignKey("routers.id"), primary_key=True
    )
    network_id: Mapped[str] = mapped_column(
        sa.ForeignKey("networks.id"), primary_key=True, unique=True
    )
    address: Mapped[str] = mapped_column(sa.String(45))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class FloatingIp(TimestampMixin, Base):
    """An address of an external network's pool: a floating IP of an
    account (kind 'floating', id 'fip-…'), or a router's external address
    (kind 'gateway', id = the router's id).

    An associated floating IP names the port it forwards to (one floating
    IP per port) and the router whose namespace carries it; instance_id
    and fixed_address are the port's, kept for listing and for building
    the router's message without a join.
    """

    __tablename__ = "floating_ips"
    __table_args__ = (
        sa.UniqueConstraint("network_id", "address"),
        sa.Index("ix_floating_ips_router", "router_id"),
        sa.Index("ix_floating_ips_instance", "instance_id"),
    )
    id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    network_id: Mapped[str] = mapped_column(sa.ForeignKey("networks.id"))
    address: Mapped[str] = mapped_column(sa.String(45))
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(sa.String(8), default="floating")
    router_id: Mapped[str | None] = mapped_column(sa.String(16))
    port_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ports.id"), unique=True
    )
    instance_id: Mapped[str | None] = mapped_column(sa.String(16))
    fixed_address: Mapped[str | None] = mapped_column(sa.String(45))
