"""storage capacity from sta heartbeats; volume and storage quotas; volume
size in the usage ledger

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "storage_nodes",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("pool", sa.String(length=64), nullable=True),
        sa.Column("volume_mode", sa.String(length=8), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("free_bytes", sa.BigInteger(), nullable=False),
        sa.Column("allocated_bytes", sa.BigInteger(), nullable=False),
        sa.Column("provisioned_bytes", sa.BigInteger(), nullable=False),
        sa.Column("reported_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "quota_holds",
        sa.Column("resource_id", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("volumes", sa.Integer(), nullable=False),
        sa.Column("storage_gb", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("resource_id"),
    )
    with op.batch_alter_table("quotas") as batch:
        batch.add_column(sa.Column("volumes", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("storage_gb", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "volumes_used",
                sa.Integer(),
                nullable=False,
                server_default="0",
            )
        )
        batch.add_column(
            sa.Column(
                "storage_gb_used",
                sa.Integer(),
                nullable=False,
                server_default="0",
            )
        )
    with op.batch_alter_table("usage_records") as batch:
        batch.add_column(sa.Column("size_gb", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("usage_records") as batch:
        batch.drop_column("size_gb")
    with op.batch_alter_table("quotas") as batch:
        batch.drop_column("storage_gb_used")
        batch.drop_column("volumes_used")
        batch.drop_column("storage_gb")
        batch.drop_column("volumes")
    op.drop_table("quota_holds")
    op.drop_table("storage_nodes")
