"""index parsing_logs(created_at) and parsing_logs(supplier_id)

Revision ID: 005
Revises: 004
Create Date: 2024-01-08 14:00:00
"""
from alembic import op

revision = "005"
down_revision = "004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_parsing_logs_created_at", "parsing_logs", ["created_at"])
    op.create_index("ix_parsing_logs_supplier_id", "parsing_logs", ["supplier_id"])


def downgrade() -> None:
    op.drop_index("ix_parsing_logs_supplier_id", table_name="parsing_logs")
    op.drop_index("ix_parsing_logs_created_at", table_name="parsing_logs")
