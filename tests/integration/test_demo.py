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


def test_department_details_are_checked_and_kept(engine):
    import pytest

    from engine.errors import ValidationFailed
    from engine.models import Department
    from engine.users import upsert_department

    with pytest.raises(ValidationFailed) as refused:
        upsert_department(engine, "eco_env", "生态环境", uscc="11350000MB0196348C")
    assert "uscc" in refused.value.fields
    upsert_department(engine, "eco_env", "生态环境", uscc="11350000MB0196348B", legal_representative="张某某")
    with engine.db.transaction() as s:
        dept = s.get(Department, "eco_env")
        assert (dept.uscc, dept.legal_representative, dept.full_name) == ("11350000MB0196348B", "张某某", "××省生态环境厅")
