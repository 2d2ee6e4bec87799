"""hosts: the BMC that can cut a hypervisor host's power (fencing)

Before a dead host's instances are rebuilt elsewhere, its power is cut
through IPMI where a BMC is recorded. The password is sealed
(common/secretbox) as bare-metal nodes' are; all null: no BMC.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("hosts") as batch:
        batch.add_column(
            sa.Column("bmc_address", sa.String(253), nullable=True)
        )
        batch.add_column(sa.Column("bmc_port", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("bmc_username", sa.String(16), nullable=True)
        )
        batch.add_column(
            sa.Column("bmc_password", sa.String(255), nullable=True)
        )
        batch.add_column(
            sa.Column("bmc_interface", sa.String(8), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("hosts") as batch:
        batch.drop_column("bmc_interface")
        batch.drop_column("bmc_password")
        batch.drop_column("bmc_username")
        batch.drop_column("bmc_port")
        batch.drop_column("bmc_address")
