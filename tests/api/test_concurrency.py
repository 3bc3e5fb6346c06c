"""Races through the API: of N simultaneous completes (or claims) of one task exactly one wins, the rest get 409,
and the case moves on once — on SQLite (writers queue) and PostgreSQL (stale row versions are conflicts)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from engine.auth.users import create_user
from engine.store import audit
from engine.store.models import AuditEvent, HumanTask

from .conftest import Caller, make_token, new_case, open_task

SCREEN = {"data": {"screening_result": "start_claim", "screening_reason": "损害事实清楚"}}


def race(app, callers: list[Caller], url: str, body=None) -> Counter[int]:
    barrier = threading.Barrier(len(callers))
    statuses: list[int] = []
    lock = threading.Lock()

    def hit(caller: Caller) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(url, json=body, headers=caller.headers)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=hit, args=(c,)) for c in callers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return Counter(statuses)


def officers(runtime, client, n: int) -> list[Caller]:
    out = []
    for i in range(n):
        name = f"racer{i}"
        create_user(runtime, name, None, ["officer"], "eco_env", f"经办{i}")
        out.append(Caller(client, make_token(runtime, name)))
    return out


def completed_count(runtime, case_id: int, bpmn_id: str) -> int:
    with runtime.db.transaction() as s:
        return int(s.execute(select(func.count(AuditEvent.id)).where(
            AuditEvent.case_id == case_id, AuditEvent.event == "completed", AuditEvent.task == bpmn_id)).scalar_one())


@pytest.mark.parametrize("n", [2, 20])
def test_simultaneous_completes(runtime, app, client, as_user, n):
    case_id = new_case(as_user("officer1"))["id"]
    task = open_task(as_user("officer1"), case_id, "screen_lead")
    statuses = race(app, officers(runtime, client, n), f"/api/v1/tasks/{task['id']}/complete", SCREEN)
    assert statuses == Counter({200: 1, 409: n - 1})
    assert completed_count(runtime, case_id, "screen_lead") == 1
    with runtime.db.transaction() as s:
        following = s.execute(select(HumanTask).where(HumanTask.case_id == case_id,
                                                      HumanTask.bpmn_id == "register_claim_start")).scalars().all()
        assert len(following) == 1 and following[0].state == "open"
        assert audit.verify(s) == []


@pytest.mark.parametrize("n", [2, 20])
def test_simultaneous_claims(runtime, app, client, as_user, n):
    case_id = new_case(as_user("officer1"))["id"]
    task = open_task(as_user("officer1"), case_id, "screen_lead")
    callers = officers(runtime, client, n)
    statuses = race(app, callers, f"/api/v1/tasks/{task['id']}/claim")
    assert statuses == Counter({200: 1, 409: n - 1})
    with runtime.db.transaction() as s:
        row = s.get(HumanTask, task["id"])
        assert row is not None and row.assignee is not None and row.assignee.startswith("racer")
        claims = s.execute(select(func.count(AuditEvent.id)).where(AuditEvent.case_id == case_id,
                                                                   AuditEvent.event == "claimed")).scalar_one()
        assert claims == 1


def test_claim_and_complete_at_once(runtime, app, client, as_user):
    """One officer claims while another completes: whichever wins, the task is done once and nothing breaks."""
    case_id = new_case(as_user("officer1"))["id"]
    task = open_task(as_user("officer1"), case_id, "screen_lead")
    a, b = officers(runtime, client, 2)
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def claim() -> None:
        barrier.wait()
        results["claim"] = app.test_client().post(f"/api/v1/tasks/{task['id']}/claim", headers=a.headers).status_code

    def complete() -> None:
        barrier.wait()
        results["complete"] = app.test_client().post(f"/api/v1/tasks/{task['id']}/complete", json=SCREEN,
                                                     headers=b.headers).status_code

    threads = [threading.Thread(target=claim), threading.Thread(target=complete)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert set(results.values()) <= {200, 409}
    assert completed_count(runtime, case_id, "screen_lead") == (1 if results["complete"] == 200 else 0)


def test_simultaneous_first_cases_on_a_new_version(runtime, app, client):
    """Eight officers register leads at once on a fresh database: all get 201 (the first start of a process
    version makes its spec bundle once; a second maker reuses it instead of failing)."""
    from tests.integration.driver import LEAD

    callers = officers(runtime, client, 8)
    barrier = threading.Barrier(len(callers))
    statuses: list[int] = []

    def hit(caller: Caller) -> None:
        own = app.test_client()
        barrier.wait()
        for _ in range(2):
            statuses.append(own.post("/api/v1/cases", json=LEAD, headers=caller.headers).status_code)

    threads = [threading.Thread(target=hit, args=(c,)) for c in callers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert statuses == [201] * 16
    with runtime.db.transaction() as s:
        screens = s.execute(select(HumanTask.case_id).where(HumanTask.bpmn_id == "screen_lead")).scalars().all()
    assert sorted(Counter(screens).values()) == [1] * 16
