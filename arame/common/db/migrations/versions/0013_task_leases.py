"""task leases: the scheduler running a task, and until when it holds it

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    # A running task belongs to one scheduler until lease_until; past it
    # any scheduler may adopt it and resume it (scheduler/leases.py).
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("owner", sa.String(64), nullable=True))
        batch.add_column(sa.Column("lease_until", TS, nullable=True))
        batch.add_column(
            sa.Column(
                "attempts", sa.Integer(), nullable=False, server_default="0"
            )
        )
        batch.create_index(
            "ix_tasks_status_lease", ["status", "lease_until"], unique=False
        )


def downgrade():
    with op.batch_alter_table("tasks") as batch:
        batch.drop_index("ix_tasks_status_lease")
        batch.drop_column("attempts")
        batch.drop_column("lease_until")
        batch.drop_column("owner")
