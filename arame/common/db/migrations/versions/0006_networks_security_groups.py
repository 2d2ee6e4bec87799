"""networks, ports (address allocations), security groups and membership

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "networks",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("ip_version", sa.Integer(), nullable=False),
        sa.Column("cidr", sa.String(length=49), nullable=False),
        sa.Column("gateway", sa.String(length=45), nullable=False),
        sa.Column("dns_domain", sa.String(length=253), nullable=False),
        sa.Column("dhcp_ranges", sa.JSON(), nullable=False),
        sa.Column("segmentation", sa.String(length=8), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("mtu", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "name"),
        sa.UniqueConstraint("segmentation", "segment_id"),
    )
    op.create_table(
        "ports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("network_id", sa.String(length=16), nullable=False),
        sa.Column("instance_id", sa.String(length=16), nullable=False),
        sa.Column("ip_address", sa.String(length=45), nullable=False),
        sa.Column("mac_address", sa.String(length=17), nullable=False),
        sa.Column("hostname", sa.String(length=63), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["network_id"], ["networks.id"]),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("network_id", "ip_address"),
        sa.UniqueConstraint("mac_address"),
    )
    op.create_index("ix_ports_instance", "ports", ["instance_id"])
    op.create_table(
        "security_groups",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("rules_text", sa.Text(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "name"),
    )
    op.create_table(
        "instance_security_groups",
        sa.Column("instance_id", sa.String(length=16), nullable=False),
        sa.Column("security_group_id", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"]),
        sa.ForeignKeyConstraint(["security_group_id"], ["security_groups.id"]),
        sa.PrimaryKeyConstraint("instance_id", "security_group_id"),
    )
    op.create_index(
        "ix_instance_security_groups_group",
        "instance_security_groups",
        ["security_group_id"],
    )


def downgrade():
    op.drop_index(
        "ix_instance_security_groups_group", "instance_security_groups"
    )
    op.drop_table("instance_security_groups")
    op.drop_table("security_groups")
    op.drop_index("ix_ports_instance", "ports")
    op.drop_table("ports")
    op.drop_table("networks")
