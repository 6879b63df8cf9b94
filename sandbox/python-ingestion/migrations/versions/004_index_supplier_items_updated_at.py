"""index supplier_items(updated_at) for time-window match queries

Revision ID: 004
Revises: 003
Create Date: 2024-01-05 11:00:00
"""
from alembic import op

revision = "004"
down_revision = "003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_supplier_items_updated_at", "supplier_items", ["updated_at"])
    op.create_index("ix_supplier_items_supplier_id", "supplier_items", ["supplier_id"])


def downgrade() -> None:
    op.drop_index("ix_supplier_items_supplier_id", table_name="supplier_items")
    op.drop_index("ix_supplier_items_updated_at", table_name="supplier_items")
