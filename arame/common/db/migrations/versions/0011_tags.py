"""tags on resources (filtering by tag)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

# Tags are ASCII (the API's pattern) and compared byte for byte.
TAG = sa.String(63).with_variant(
    mysql.VARCHAR(63, charset="ascii", collation="ascii_bin"),
    "mysql",
    "mariadb",
)

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "resource_tags",
        sa.Column("resource_id", sa.String(length=16), nullable=False),
        sa.Column("tag", TAG, nullable=False),
        sa.PrimaryKeyConstraint("resource_id", "tag"),
    )
    op.create_index(
        "ix_resource_tags_tag", "resource_tags", ["tag", "resource_id"]
    )


def downgrade():
    op.drop_index("ix_resource_tags_tag", table_name="resource_tags")
    op.drop_table("resource_tags")
