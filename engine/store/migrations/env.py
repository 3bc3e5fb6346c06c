"""Alembic environment: runs the migrations on the connection ``engine.store.schema`` hands over (there is no
alembic.ini; the service and ``eco-claims db`` configure Alembic in code)."""

from __future__ import annotations

from alembic import context

from engine.store.models import Base
from engine.store.schema import include_object

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, include_object=include_object,
                  render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
with context.begin_transaction():
    context.run_migrations()
