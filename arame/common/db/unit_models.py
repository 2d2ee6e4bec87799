"""Unit groups and units (the VCP model): their tables."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from arame.common.db.models import Base, TimestampMixin


class UnitGroup(TimestampMixin, Base):
    """The units of one experiment, cleaned up as a whole. Its state is
    derived from its units' (api/services/unit_state.py); `status` only
    says whether a cleanup has begun."""

    __tablename__ = "unit_groups"
    __table_args__ = (sa.UniqueConstraint("account_id", "name"),)
    id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(63))
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id"))
    status: Mapped[str] = mapped_column(sa.String(16), default="active")


class Unit(TimestampMixin, Base):
    """Identical nodes (instances) made from one spec. The spec is kept so
    nodes added later are made the same way; `node_seq` numbers their
    names and moves by compare-and-set."""

    __tablename__ = "units"
    __table_args__ = (sa.UniqueConstraint("unit_group_id", "name"),)
    id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(48))
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id"))
    unit_group_id: Mapped[str] = mapped_column(
        sa.ForeignKey("unit_groups.id"), index=True
    )
    spec: Mapped[dict] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    node_seq: Mapped[int] = mapped_column(default=0)
