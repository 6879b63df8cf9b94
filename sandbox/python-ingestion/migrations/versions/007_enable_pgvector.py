"""enable pgvector (Phase 7)

Revision ID: 007
Revises: 006
Create Date: 2024-01-15 09:00:00

The extension is created only where the server offers it, so the service
still migrates on hosts without pgvector (embeddings then use real[]).
The check runs in SQL rather than Python so `alembic upgrade --sql` emits it too.
"""
from alembic import op

revision = "007"
down_revision = "006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
                CREATE EXTENSION IF NOT EXISTS vector;
            END IF;
        END
        $$
        """
    )


def downgrade() -> None:
    # No CASCADE on purpose: while any column still uses the vector type this
    # fails ("other objects depend on it") instead of silently dropping data.
    op.execute("DROP EXTENSION IF EXISTS vector")
