"""hosts: maintenance mode and the reasons an operator took a host out

A disabled or maintenance host takes no new work and keeps its guests;
the reasons and who changed the state last are for the next operator.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("hosts") as batch:
        batch.add_column(
            sa.Column(
                "maintenance",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
        batch.add_column(
            sa.Column("maintenance_reason", sa.String(255), nullable=True)
        )
        batch.add_column(
            sa.Column("disabled_reason", sa.String(255), nullable=True)
        )
        batch.add_column(
            sa.Column("state_changed_by", sa.String(64), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("hosts") as batch:
        batch.drop_column("state_changed_by")
        batch.drop_column("disabled_reason")
        batch.drop_column("maintenance_reason")
        batch.drop_column("maintenance")
