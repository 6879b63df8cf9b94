"""create match_review_queue

Revision ID: 003
Revises: 002
Create Date: 2024-01-02 09:20:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "003"
down_revision = "002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "match_review_queue",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("created_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()")),
        sa.Column("metadata", postgresql.JSONB()),
    )


def downgrade() -> None:
    op.drop_table("match_review_queue")
