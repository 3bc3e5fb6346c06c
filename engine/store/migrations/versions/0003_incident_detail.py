"""incidents.detail: the technical cause of an incident, for supervisors (the person who acted sees only the short
Chinese message)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _has_detail() -> bool:
    # A database made by create_all from newer models (and then stamped at the baseline) has the column already.
    return "detail" in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("incidents")}


def upgrade() -> None:
    if not _has_detail():
        with op.batch_alter_table("incidents", schema=None) as batch_op:
            batch_op.add_column(sa.Column("detail", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("detail")
