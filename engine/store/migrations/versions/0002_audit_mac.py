"""audit_events.mac: the keyed MAC (HMAC-SHA256) of each audit row

Rows written before this revision keep ``mac`` NULL and are verified by their plain SHA-256 chain, as before
(``engine/store/audit.py``). The key itself is never stored in the database.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _has_mac() -> bool:
    # A database made by create_all from newer models (and then stamped at the baseline) has the column already.
    return "mac" in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("audit_events")}


def upgrade() -> None:
    if not _has_mac():
        with op.batch_alter_table("audit_events", schema=None) as batch_op:
            batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("mac")
