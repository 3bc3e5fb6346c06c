"""Storage: the tables, the unit of work, the audit chain, numbering, settings, and the schema migrations.

Imports nothing of the engine but ``engine.common``."""
