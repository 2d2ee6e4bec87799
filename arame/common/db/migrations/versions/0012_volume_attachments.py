"""volume attachments (hot-plug through hva)

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401
from sqlalchemy.dialects import mysql

TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    # The guest's disk name of an attached data volume (vdb, vdc ...).
    with op.batch_alter_table("volumes") as batch:
        batch.add_column(
            sa.Column("device", sa.String(length=8), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("volumes") as batch:
        batch.drop_column("device")
