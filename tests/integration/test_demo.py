"""The demo data: the users of API.md and cases at different stages, created once."""

from __future__ import annotations

from engine import cases
from engine.demo import load_demo
from engine.runtime import Config, Engine
from engine.users import authenticate


def test_demo_users_and_cases(db_url):
    engine = Engine(Config(database_url=db_url, demo=True))
    engine.start()
    try:
        assert load_demo(engine) is True
        assert load_demo(engine) is False  # not twice
        for name in ("officer1", "officer2", "division1", "dept1", "supervisor1", "analyst1", "admin1"):
            assert authenticate(engine, name, "demo").username == name
        ledger = cases.ledger(engine, authenticate(engine, "supervisor1", "demo"))
        stages = {(c["stage"], c["status"]) for c in ledger["items"]}
        assert {("lead", "open"), ("claim_start", "open"), ("lead", "lead_closed"), ("investigation", "open"),
                ("consultation", "open")} <= stages
        assert ledger["total"] == 5
    finally:
        engine.close()
