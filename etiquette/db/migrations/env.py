"""Alembic's environment for the results database: run by `etiquette.db.engine.upgrade` on the connection it
opened (inside its transaction, which on SQLite holds the write lock and on PostgreSQL an advisory lock, so two
runs opening a new database at once migrate it once)."""

from __future__ import annotations

from alembic import context

from etiquette.db.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
