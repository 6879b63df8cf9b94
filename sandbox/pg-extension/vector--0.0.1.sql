-- Loaded by CREATE EXTENSION vector; refuse to run from psql directly.
\echo Use "CREATE EXTENSION vector" to load this file. \quit

-- No typmod: write "embedding vector", not "vector(3)" (domains take no modifiers).
CREATE DOMAIN vector AS real[];

COMMENT ON DOMAIN vector IS 'sandbox stand-in for pgvector''s vector type';
