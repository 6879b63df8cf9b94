"""Alembic environment for the python-ingestion fixture.

The URL comes only from the DATABASE_URL environment variable (never from
alembic.ini or argv), so a password never shows up in `ps` or shell history.
"""
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config

if config.config_file_name is not None:
    fileConfig(config.config_file_name)

target_metadata = None


def database_url(required: bool = True) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        if not required:
            return "postgresql://"  # offline mode only needs the dialect
        raise SystemExit("DATABASE_URL is not set; alembic needs it to reach the database")
    # SQLAlchemy 1.4+ rejects the libpq-style "postgres://" scheme.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    return url


def run_migrations_offline() -> None:
    """`alembic upgrade --sql`: emit the SQL script without connecting."""
    context.configure(
        url=database_url(required=False),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    section = config.get_section(config.config_ini_section) or {}
    section["sqlalchemy.url"] = database_url()
    connectable = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
