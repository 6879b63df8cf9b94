"""create parsing_logs

Revision ID: 002
Revises: 001
Create Date: 2024-01-02 09:10:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "002"
down_revision = "001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parsing_logs",
        # BigInteger primary key renders as BIGSERIAL on PostgreSQL.
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("supplier_id", postgresql.UUID()),
        sa.Column("details", postgresql.JSONB()),
        sa.Column("created_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()")),
    )


def downgrade() -> None:
    op.drop_table("parsing_logs")
