"""The audit trail: append-only through the service layer, hash-chained, intact under concurrent writers."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from engine.auth.users import get_actor
from engine.common.errors import Forbidden
from engine.services import cases
from engine.store import audit
from engine.store.models import AuditEvent

from .driver import LEAD


def test_concurrent_writers_keep_one_chain(runtime):
    officer = get_actor(runtime, "officer1")
    errors: list[BaseException] = []

    def register(i: int) -> None:
        try:
            cases.register_lead(runtime, officer, dict(LEAD, title=f"并发登记的线索{i}"))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with runtime.db.transaction() as s:
        assert audit.verify(s) == []
        assert len(s.execute(select(AuditEvent.id)).all()) >= 16


def test_changing_an_event_through_the_service_layer_fails_and_tampering_is_detected(runtime):
    cases.register_lead(runtime, get_actor(runtime, "officer1"), dict(LEAD))
    with pytest.raises(Forbidden), runtime.db.transaction() as s:
        row = s.execute(select(AuditEvent).order_by(AuditEvent.id).limit(1)).scalar_one()
        row.title = "改过的"
    with runtime.db.sql_engine.begin() as conn:  # behind the application's back
        conn.execute(text("UPDATE audit_events SET who = 'mallory' WHERE id = (SELECT MIN(id) FROM audit_events)"))
    with runtime.db.transaction() as s:
        assert audit.verify(s) != []
