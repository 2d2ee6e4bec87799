"""accounts.deleted_at: deleted accounts keep their row for history

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("deleted_at", TS, nullable=True))


def downgrade():
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("deleted_at")
