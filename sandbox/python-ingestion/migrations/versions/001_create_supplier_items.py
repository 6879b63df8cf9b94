"""create supplier_items

Revision ID: 001
Revises:
Create Date: 2024-01-02 09:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supplier_items",
        sa.Column("id", postgresql.UUID(), primary_key=True),
        sa.Column("supplier_id", postgresql.UUID(), nullable=False),
        sa.Column("product_id", postgresql.UUID(), nullable=True),
        sa.Column("name", sa.Text()),
        sa.Column("status", sa.Text()),
        sa.Column("updated_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()")),
    )


def downgrade() -> None:
    op.drop_table("supplier_items")
