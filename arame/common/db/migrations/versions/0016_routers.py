"""routers and floating IPs: external (flat) networks, a DHCP address off
the gateway, the floating_ips quota

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    # Existing networks keep dhcp_address NULL: dnsmasq stays on their
    # gateway, and they cannot join a router (the API says why).
    with op.batch_alter_table("networks") as batch:
        batch.add_column(
            sa.Column(
                "external",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
        batch.add_column(
            sa.Column("physical_network", sa.String(32), nullable=True)
        )
        batch.add_column(
            sa.Column("dhcp_address", sa.String(45), nullable=True)
        )
        # Flat networks have no segment id.
        batch.alter_column(
            "segment_id", existing_type=sa.Integer(), nullable=True
        )
    with op.batch_alter_table("quotas") as batch:
        batch.add_column(
            sa.Column("floating_ips", sa.Integer(), nullable=True)
        )
        batch.add_column(
            sa.Column(
                "floating_ips_used",
                sa.Integer(),
                nullable=False,
                server_default="0",
            )
        )
    op.create_table(
        "routers",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column(
            "account_id",
            sa.String(16),
            sa.ForeignKey("accounts.id"),
            nullable=False,
        ),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column(
            "gateway_network_id",
            sa.String(16),
            sa.ForeignKey("networks.id"),
            nullable=True,
        ),
        sa.Column("gateway_address", sa.String(45), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.String(255), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("account_id", "name"),
    )
    op.create_table(
        "router_interfaces",
        sa.Column(
            "router_id",
            sa.String(16),
            sa.ForeignKey("routers.id"),
            primary_key=True,
        ),
        sa.Column(
            "network_id",
            sa.String(16),
            sa.ForeignKey("networks.id"),
            primary_key=True,
        ),
        sa.Column("address", sa.String(45), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("network_id"),
    )
    op.create_table(
        "floating_ips",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column(
            "network_id",
            sa.String(16),
            sa.ForeignKey("networks.id"),
            nullable=False,
        ),
        sa.Column("address", sa.String(45), nullable=False),
        sa.Column(
            "account_id",
            sa.String(16),
            sa.ForeignKey("accounts.id"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("router_id", sa.String(16), nullable=True),
        sa.Column(
            "port_id",
            sa.Integer(),
            sa.ForeignKey("ports.id"),
            nullable=True,
        ),
        sa.Column("instance_id", sa.String(16), nullable=True),
        sa.Column("fixed_address", sa.String(45), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("network_id", "address"),
        sa.UniqueConstraint("port_id"),
    )
    op.create_index("ix_floating_ips_router", "floating_ips", ["router_id"])
    op.create_index(
        "ix_floating_ips_instance", "floating_ips", ["instance_id"]
    )


def downgrade():
    op.drop_index("ix_floating_ips_instance", table_name="floating_ips")
    op.drop_index("ix_floating_ips_router", table_name="floating_ips")
    op.drop_table("floating_ips")
    op.drop_table("router_interfaces")
    op.drop_table("routers")
    with op.batch_alter_table("quotas") as batch:
        batch.drop_column("floating_ips_used")
        batch.drop_column("floating_ips")
    with op.batch_alter_table("networks") as batch:
        batch.alter_column(
            "segment_id", existing_type=sa.Integer(), nullable=False
        )
        batch.drop_column("dhcp_address")
        batch.drop_column("physical_network")
        batch.drop_column("external")
