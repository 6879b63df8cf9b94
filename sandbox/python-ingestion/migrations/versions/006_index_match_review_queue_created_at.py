"""index match_review_queue(created_at); last revision before Phase 7

Revision ID: 006
Revises: 005
Create Date: 2024-01-10 16:00:00
"""
from alembic import op

revision = "006"
down_revision = "005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_match_review_queue_created_at", "match_review_queue", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_match_review_queue_created_at", table_name="match_review_queue")
