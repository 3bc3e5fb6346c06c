"""Every path of PROCESS.md through the service layer (each step loads the instance from the database and saves it)."""

from __future__ import annotations

from .driver import Case


def test_lead_closed(engine):
    case = Case(engine)
    view = case.do("screen_lead", {"screening_result": "no_claim", "screening_reason": "不属于生态环境损害"})
    assert view["status"] == "lead_closed"
    assert view["tasks"] == []


def test_happy_path_compensation_to_case_closed(engine):
    case = Case(engine)
    case.start_claim()
    view = case.view()
    assert view["number"] == "环赔〔2026〕1号"
    assert [d["form"] for d in view["documents"]] == [1]
    case.investigate()
    case.prepare_and_serve()
    case.agree(remedy="compensation")
    case.do("record_compensation_payment", {"paid_amount": "1250000.00", "paid_on": case.today(), "payer": "福州某化工有限公司",
                                            "account": "treasury", "receipt_number": "非税收入票据0001"})
    case.do("report_performance_to_authorities", {"report_needed": False})
    view = case.do("close_case", {"closed_on": case.today(), "closing_summary": "已履行完毕", "publish": True})
    assert view["status"] == "case_closed"
    assert sorted(d["form"] for d in view["documents"]) == [1, 2, 4, 5]
    assert view["groups"][0]["outcome"] == "closed"
