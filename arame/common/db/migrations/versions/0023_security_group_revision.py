"""security_groups: a revision that every change of the rules moves

A group's rules live once per host (hva's chain per group) and reach it
from several flows: a build or a security-groups change sends the port
specs it read, a PATCH's flow the new rules. A spec read before a PATCH
but applied after it would put the older rules back for every member on
that host; with the revision the host keeps the newest it was given.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("security_groups") as batch:
        batch.add_column(
            sa.Column(
                "revision", sa.Integer(), nullable=False, server_default="0"
            )
        )


def downgrade():
    with op.batch_alter_table("security_groups") as batch:
        batch.drop_column("revision")
