"""hosts: an index on updated_at

Each scheduler keeps every host in memory and, per decision, reads only
the rows changed since its last read (scheduler/host_cache.py): a range
on updated_at, which without an index scans every host row.

Revision ID: 0022
Revises: 0021
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_hosts_updated_at", "hosts", ["updated_at"])


def downgrade():
    op.drop_index("ix_hosts_updated_at", table_name="hosts")
