"""The demo data: the demo users and cases at different stages, created once."""

from __future__ import annotations

from engine.auth.users import authenticate
from engine.services import case_ledger
from engine.services.case_ledger import LedgerFilter
from engine.services.demo import load_demo
from engine.services.startup import start
from engine.store.runtime import Config, Runtime


def test_demo_users_and_cases(db_url):
    runtime = Runtime(Config(database_url=db_url, demo=True))
    start(runtime)
    try:
        assert load_demo(runtime) is True
        assert load_demo(runtime) is False  # not twice
        for name in ("officer1", "officer2", "division1", "dept1", "supervisor1", "analyst1", "admin1"):
            assert authenticate(runtime, name, "demo").username == name
        ledger = case_ledger.search(runtime, authenticate(runtime, "supervisor1", "demo"), LedgerFilter())
        stages = {(c["stage"], c["status"]) for c in ledger["items"]}
        assert {("lead", "open"), ("claim_start", "open"), ("lead", "lead_closed"), ("investigation", "open"),
                ("consultation", "open")} <= stages
        assert ledger["total"] == 5
    finally:
        runtime.close()


def test_department_details_are_checked_and_kept(runtime):
    import pytest

    from engine.auth.users import upsert_department
    from engine.common.errors import ValidationFailed
    from engine.store.models import Department

    with pytest.raises(ValidationFailed) as refused:
        upsert_department(runtime, "eco_env", "生态环境", uscc="11350000MB0196348C")
    assert "uscc" in refused.value.fields
    upsert_department(runtime, "eco_env", "生态环境", uscc="11350000MB0196348B", legal_representative="张某某")
    with runtime.db.transaction() as s:
        dept = s.get(Department, "eco_env")
        assert (dept.uscc, dept.legal_representative, dept.full_name) == ("11350000MB0196348B", "张某某", "××省生态环境厅")
