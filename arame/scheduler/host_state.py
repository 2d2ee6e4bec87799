"""What the scheduler knows of a host while it decides: capacity left after
claims, liveness and kind, read in one query."""

import dataclasses
import datetime as dt

import sqlalchemy as sa

from arame.common.db import models


@dataclasses.dataclass
class HostState:
    name: str
    provider: str
    hypervisor_type: str
    enabled: bool
    last_report_at: dt.datetime | None
    vcpus: int
    memory_mb: int
    disk_gb: int
    vcpus_used: int
    memory_mb_used: int
    disk_gb_used: int
    instance_count: int
    # Last, with a default: tests build states by keyword without it.
    maintenance: bool = False

    @classmethod
    def from_row(cls, row: models.Host) -> "HostState":
        return cls(
            **{f.name: getattr(row, f.name) for f in dataclasses.fields(cls)}
        )


@dataclasses.dataclass(frozen=True)
class RequestSpec:
    """What an instance needs from a host."""

    instance_id: str
    account_id: str
    provider: str
    vcpus: int
    memory_mb: int
    disk_gb: int


COLUMNS = [getattr(models.Host, f.name) for f in dataclasses.fields(HostState)]


def load_hosts(session) -> list[HostState]:
    # Plain column tuples, not ORM objects: with a thousand hosts the ORM
    # identity map costs more than the placement decision itself.
    return [HostState(*row) for row in session.execute(sa.select(*COLUMNS))]
