"""Schema migrations (Alembic); ``engine/store/schema.py`` runs them."""
