"""services: the RPC API version each service serves

Heartbeats report the version of the manager's Target; a daemon caps
the messages it sends a kind of service at the oldest running one's
([upgrade_levels] auto), so agents not yet upgraded keep working during
a rolling upgrade. Null: a service from before it was reported.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("services") as batch:
        batch.add_column(
            sa.Column("rpc_version", sa.String(16), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("services") as batch:
        batch.drop_column("rpc_version")
