"""Evacuation (issue 13): what a host's evacuation and each instance's
move must remember across scheduler deaths.

A `HostEvacuation` row per host ever evacuated: when its fencing was done
(storage initiator revoked everywhere, power cut where a BMC is known) and
whether an evacuation is in progress. A fence counts only while the host
has not reported since (`fenced_at` later than its `last_report_at`): a
host that came back is no longer fenced.

An `InstanceEvacuation` row per evacuate task: the host it leaves and the
capacity it claimed on the new one, so that a resumed flow neither claims
twice nor releases twice. `LeaderLease` lets one scheduler at a time run
a cloud-wide periodic (automatic evacuation).
"""

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from arame.common.db.models import Base, TimestampMixin


class HostEvacuation(TimestampMixin, Base):
    __tablename__ = "host_evacuations"
    host: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    # evacuating | ended
    state: Mapped[str] = mapped_column(sa.String(16))
    fenced_at: Mapped[dt.datetime | None]
    # What the fencing did (nodes, exports revoked, power), for operators.
    fence_detail: Mapped[str | None] = mapped_column(sa.String(1024))
    # Begun by the scheduler's periodic ([ha] auto_evacuate), not by hand.
    auto: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]


class InstanceEvacuation(TimestampMixin, Base):
    __tablename__ = "instance_evacuations"
    task_id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    instance_id: Mapped[str] = mapped_column(sa.String(16), index=True)
    source_host: Mapped[str] = mapped_column(sa.String(255))
    # running, stopped or error: where it goes back if its host returns
    # first; it lands stopped if it was, else running.
    prior_status: Mapped[str] = mapped_column(sa.String(16))
    dest_host: Mapped[str | None] = mapped_column(sa.String(255))
    # True while this row (not the instance) holds dest_host's capacity.
    dest_claimed: Mapped[bool] = mapped_column(default=False)


class LeaderLease(Base):
    __tablename__ = "leader_leases"
    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    owner: Mapped[str | None] = mapped_column(sa.String(64))
    lease_until: Mapped[dt.datetime | None]
