"""instances.user_data: MEDIUMTEXT on MySQL/MariaDB (TEXT stops at 64 KiB;
user data goes to 96 KiB)

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    # SQLite's TEXT has no such limit: nothing to change there.
    if op.get_bind().dialect.name not in ("mysql", "mariadb"):
        return
    op.alter_column(
        "instances",
        "user_data",
        existing_type=sa.Text(),
        type_=mysql.MEDIUMTEXT(),
        existing_nullable=True,
    )


def downgrade():
    if op.get_bind().dialect.name not in ("mysql", "mariadb"):
        return
    op.alter_column(
        "instances",
        "user_data",
        existing_type=mysql.MEDIUMTEXT(),
        type_=sa.Text(),
        existing_nullable=True,
    )
