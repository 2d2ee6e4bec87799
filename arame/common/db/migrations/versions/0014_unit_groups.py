"""unit groups and units; task trees; a larger root disk and several keys
per instance

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "unit_groups",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column(
            "account_id",
            sa.String(16),
            sa.ForeignKey("accounts.id"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("account_id", "name"),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(48), nullable=False),
        sa.Column(
            "account_id",
            sa.String(16),
            sa.ForeignKey("accounts.id"),
            nullable=False,
        ),
        sa.Column(
            "unit_group_id",
            sa.String(16),
            sa.ForeignKey("unit_groups.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("node_seq", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("unit_group_id", "name"),
    )
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("unit_id", sa.String(16), nullable=True))
        batch.add_column(sa.Column("root_gb", sa.Integer, nullable=True))
        batch.add_column(sa.Column("key_pair_ids", sa.JSON, nullable=True))
        batch.create_index("ix_instances_unit_id", ["unit_id"], unique=False)
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(16), nullable=True))
        batch.add_column(sa.Column("children", sa.Integer, nullable=True))
        batch.create_index("ix_tasks_parent_id", ["parent_id"], unique=False)


def downgrade():
    with op.batch_alter_table("tasks") as batch:
        batch.drop_index("ix_tasks_parent_id")
        batch.drop_column("children")
        batch.drop_column("parent_id")
    with op.batch_alter_table("instances") as batch:
        batch.drop_index("ix_instances_unit_id")
        batch.drop_column("key_pair_ids")
        batch.drop_column("root_gb")
        batch.drop_column("unit_id")
    op.drop_table("units")
    op.drop_table("unit_groups")
