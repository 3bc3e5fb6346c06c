"""The dashboard's money: claimed (agreement or judgment), paid to the treasury (payments recorded to the treasury
account), spent on restoration (the plan's 修复费用 and alternative restoration's 使用资金); each figure links to the
ledger filtered to its department; another department sees none of it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.auth.users import get_actor
from engine.services import dashboard
from engine.store.runtime import Runtime
from tests.integration.driver import COMPANY, Case


def _paid_case(runtime: Runtime) -> Case:
    case = Case(runtime)
    case.start_claim()
    case.investigate()
    case.prepare_and_serve()
    case.agree(remedy="compensation")
    case.do("record_compensation_payment", {"paid_amount": "1000000.00", "paid_on": case.today(), "payer": COMPANY["name"],
                                            "account": "treasury", "receipt_number": "非税收入票据0001"})
    return case


def _restoration_case(runtime: Runtime) -> Case:
    case = Case(runtime)
    case.start_claim()
    case.investigate()
    case.prepare_and_serve()
    case.agree(remedy="restoration")
    case.do("record_restoration_plan", {"restoration_plan": "河道底泥清淤并补植水生植物", "restorer": "某环境修复公司",
                                        "restoration_due_on": "2027-06-30", "restoration_budget": "300000.50"})
    return case


def test_case_amounts_read_the_groups_variables() -> None:
    found = dashboard.case_amounts({"groups": {
        "1": {"compensation_amount": "800000.00", "payments": [
            {"paid_amount": "500000.00", "account": "treasury"}, {"paid_amount": "100000.00", "account": "court"}]},
        "2": {"compensation_amount": "bad", "restoration_budget": "20000", "spent_amount": "1000.25"}}})
    assert found == {"claimed": Decimal("800000.00"), "treasury": Decimal("500000.00"),
                     "restoration": Decimal("21000.25")}
    assert dashboard.case_amounts(None) == dict.fromkeys(dashboard.AMOUNT_KINDS, Decimal("0"))


def test_dashboard_shows_the_amounts_linked_to_the_ledger(runtime: Runtime, browser_as: Any) -> None:
    _paid_case(runtime)
    _restoration_case(runtime)
    Case(runtime).start_claim()  # no agreement yet: no amounts
    data = dashboard.overview(runtime, get_actor(runtime, "supervisor1"))["amounts"]
    assert (data["total"]["claimed"], data["total"]["treasury"], data["total"]["restoration"]) == (
        "2500000.00", "1000000.00", "300000.50")
    assert data["total"]["cases"] == 2
    assert [(d["department"], d["cases"], d["claimed"]) for d in data["by_department"]] == [("eco_env", 2, "2500000.00")]

    page = browser_as("supervisor1").text("/dashboard")
    assert "2,500,000.00" in page and "1,000,000.00" in page and "300,000.50" in page
    assert "已缴入国库" in page and "修复资金" in page
    assert page.count('href="/ledger?department=eco_env"') >= 4  # cases, claimed, treasury, restoration
    ledger = browser_as("supervisor1").text("/ledger?department=eco_env")
    assert ledger.count('href="/cases/') >= 3

    other = dashboard.overview(runtime, get_actor(runtime, "officer2"))["amounts"]
    assert other["total"]["claimed"] == "0.00" and other["by_department"] == []
    assert "2,500,000.00" not in browser_as("officer2").text("/dashboard")
