"""bare-metal nodes (admin inventory) and the instance that holds one

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "baremetal_nodes",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("bmc_address", sa.String(length=253), nullable=False),
        sa.Column("bmc_port", sa.Integer(), nullable=False),
        sa.Column("bmc_username", sa.String(length=16), nullable=False),
        sa.Column("bmc_password", sa.String(length=255), nullable=False),
        sa.Column("bmc_interface", sa.String(length=8), nullable=False),
        sa.Column("bma_host", sa.String(length=255), nullable=True),
        sa.Column("macs", sa.JSON(), nullable=False),
        sa.Column("cpus", sa.Integer(), nullable=False),
        sa.Column("memory_mb", sa.Integer(), nullable=False),
        sa.Column("disk_gb", sa.Integer(), nullable=False),
        sa.Column("resource_class", sa.String(length=63), nullable=True),
        sa.Column("provision_state", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.String(length=255), nullable=True),
        sa.Column("maintenance", sa.Boolean(), nullable=False),
        sa.Column("maintenance_reason", sa.String(length=255), nullable=True),
        sa.Column("power_state", sa.String(length=16), nullable=True),
        sa.Column("instance_id", sa.String(length=16), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index(
        "ix_baremetal_nodes_state",
        "baremetal_nodes",
        ["provision_state", "maintenance"],
    )
    op.create_index(
        "ix_baremetal_nodes_instance_id", "baremetal_nodes", ["instance_id"]
    )
    op.add_column(
        "instances", sa.Column("node_id", sa.String(length=16), nullable=True)
    )


def downgrade():
    op.drop_column("instances", "node_id")
    op.drop_index(
        "ix_baremetal_nodes_instance_id", table_name="baremetal_nodes"
    )
    op.drop_index("ix_baremetal_nodes_state", table_name="baremetal_nodes")
    op.drop_table("baremetal_nodes")
