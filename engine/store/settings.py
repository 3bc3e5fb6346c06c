"""Reading the administrator settings kept in the database (``settings`` table); changing them is the service
``engine/services/settings.py``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.store.models import Setting


def case_number_format(session: Session, default: str) -> str:
    row = session.get(Setting, "case_number_format")
    return str(row.value) if row is not None and row.value else default
