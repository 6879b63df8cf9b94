"""create product_embeddings (Phase 7)

Revision ID: 008
Revises: 007
Create Date: 2024-01-15 09:30:00

The embedding column is pgvector's `vector` when that type exists, else real[].
"""
from alembic import op

revision = "008"
down_revision = "007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        DO $$
        DECLARE
            embedding_type text := CASE WHEN to_regtype('vector') IS NULL THEN 'real[]' ELSE 'vector' END;
        BEGIN
            EXECUTE format(
                'CREATE TABLE IF NOT EXISTS product_embeddings ('
                '  supplier_item_id uuid PRIMARY KEY REFERENCES supplier_items(id) ON DELETE CASCADE,'
                '  embedding %s'
                ')',
                embedding_type
            );
        END
        $$
        """
    )


def downgrade() -> None:
    # Embeddings are expensive to regenerate, so a non-empty table is kept
    # (with a NOTICE). That is why the runbook warns that downgrading 007 then
    # fails: the kept column still depends on the vector type. Drop the table
    # first (runbook section 2) to downgrade past 007.
    op.execute(
        """
        DO $$
        BEGIN
            IF to_regclass('product_embeddings') IS NULL THEN
                RETURN;
            END IF;
            IF EXISTS (SELECT 1 FROM product_embeddings) THEN
                RAISE NOTICE 'product_embeddings has rows; keeping it (drop it first to remove the table)';
            ELSE
                DROP TABLE product_embeddings;
            END IF;
        END
        $$
        """
    )
