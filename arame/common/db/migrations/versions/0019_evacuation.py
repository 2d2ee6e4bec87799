"""evacuation: hosts fenced and evacuated, each instance's move, leaders

host_evacuations: when a down host was fenced and whether its instances
are being moved; instance_evacuations: the host an evacuate task leaves
and the capacity it claimed on the new one; leader_leases: one scheduler
at a time runs automatic evacuation.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade():
    op.create_table(
        "host_evacuations",
        sa.Column("host", sa.String(255), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("fenced_at", _TS, nullable=True),
        sa.Column("fence_detail", sa.String(1024), nullable=True),
        sa.Column("auto", sa.Boolean(), nullable=False),
        sa.Column("started_at", _TS, nullable=True),
        sa.Column("ended_at", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_table(
        "instance_evacuations",
        sa.Column("task_id", sa.String(16), primary_key=True),
        sa.Column("instance_id", sa.String(16), nullable=False),
        sa.Column("source_host", sa.String(255), nullable=False),
        sa.Column("prior_status", sa.String(16), nullable=False),
        sa.Column("dest_host", sa.String(255), nullable=True),
        sa.Column("dest_claimed", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_index(
        "ix_instance_evacuations_instance_id",
        "instance_evacuations",
        ["instance_id"],
    )
    op.create_table(
        "leader_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("lease_until", _TS, nullable=True),
    )


def downgrade():
    op.drop_table("leader_leases")
    op.drop_index(
        "ix_instance_evacuations_instance_id", "instance_evacuations"
    )
    op.drop_table("instance_evacuations")
    op.drop_table("host_evacuations")
