"""volumes (root volumes of instances first), where images are stored, and
the address a host's iSCSI initiator comes from

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "hosts",
        sa.Column("storage_address", sa.String(length=45), nullable=True),
    )
    op.create_table(
        "volumes",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("size_gb", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.String(length=255), nullable=True),
        sa.Column("image_id", sa.String(length=16), nullable=True),
        sa.Column("snapshot_id", sa.String(length=16), nullable=True),
        sa.Column("storage_node", sa.String(length=255), nullable=True),
        sa.Column("instance_id", sa.String(length=16), nullable=True),
        sa.Column("root_of", sa.String(length=16), nullable=True),
        sa.Column("chap_user", sa.String(length=64), nullable=True),
        sa.Column("chap_secret", sa.String(length=64), nullable=True),
        sa.Column("export_iqn", sa.String(length=223), nullable=True),
        sa.Column("export_portal", sa.String(length=64), nullable=True),
        sa.Column("deleted_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_volumes_instance_id", "volumes", ["instance_id"])
    op.create_index("ix_volumes_root_of", "volumes", ["root_of"])
    op.create_table(
        "image_locations",
        sa.Column("image_id", sa.String(length=16), nullable=False),
        sa.Column("storage_node", sa.String(length=255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("image_id", "storage_node"),
    )


def downgrade():
    op.drop_column("hosts", "storage_address")
    op.drop_table("image_locations")
    op.drop_index("ix_volumes_root_of", table_name="volumes")
    op.drop_index("ix_volumes_instance_id", table_name="volumes")
    op.drop_table("volumes")
