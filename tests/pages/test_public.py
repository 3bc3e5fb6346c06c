"""Public disclosure (§13 信息公开): no login; only closed cases whose closing chose to publish; companies named,
persons' names masked and ID numbers never shown; open cases appear nowhere."""

from __future__ import annotations

from typing import Any

from engine.services import disclosure
from engine.store.runtime import Runtime
from tests.integration.driver import COMPANY, PERSON, Case

LIABILITY = f"{COMPANY['name']}与{PERSON['name']}（身份证号码{PERSON['id_number']}）承担连带赔偿责任"


def _closed(runtime: Runtime, title: str, publish: bool = True) -> Case:
    case = Case(runtime)
    with runtime.db.transaction() as s:
        from engine.store.models import Case as CaseRow

        row = s.get(CaseRow, case.id)
        assert row is not None
        row.title = title
    case.start_claim()
    case.investigate()
    case.prepare_and_serve()
    case.do("record_obligor_reply", {"obligor_reply": "accepts", "replied_on": case.today()})
    case.meeting("agreed")
    case.do("draft_agreement", {
        "facts": f"{PERSON['name']}驾驶车辆运输废水并倾倒", "evidence_summary": "勘验笔录、监测报告", "legal_basis": "《民法典》",
        "liability": LIABILITY, "remedy": "compensation", "compensation_amount": "1250000.00",
        "payment_due_on": "2026-12-31", "cost_bearing": "鉴定评估费用由赔偿义务人承担", "signing_place": "福州市",
        "planned_signing_on": case.today(), "agreement_name": "闽江支流镍污染生态环境损害赔偿协议",
        "obligations": [{"kind": "payment", "description": f"{PERSON['name']}等缴纳生态环境损害赔偿金",
                         "amount": "1250000.00", "due_on": "2026-12-31", "account": "treasury"}]})
    case.do("sign_agreement", {"signed_on": case.today(), "apply_judicial_confirmation": False})
    case.do("record_compensation_payment", {"paid_amount": "1250000.00", "paid_on": case.today(), "payer": COMPANY["name"],
                                            "account": "treasury", "receipt_number": "非税收入票据0001"})
    case.do("report_performance_to_authorities", {"report_needed": False})
    view = case.do("close_case", {"closed_on": case.today(),
                                  "closing_summary": f"已履行完毕，{PERSON['name']}已缴清，{COMPANY['legal_representative']}到场",
                                  "publish": publish})
    assert view["status"] == "case_closed"
    return case


def test_mask_name() -> None:
    assert disclosure.mask_name("张某某") == "张**"
    assert disclosure.mask_name("陈某") == "陈*"
    assert disclosure.mask_name("李") == "李*"


def test_public_pages_show_published_closed_cases_without_personal_data(runtime: Runtime, app: Any) -> None:
    published = _closed(runtime, "公开测试：闽江支流镍污染赔偿案")
    unpublished = _closed(runtime, "不公开测试：某案", publish=False)
    open_case = Case(runtime)
    with runtime.db.transaction() as s:
        from engine.store.models import Case as CaseRow

        row = s.get(CaseRow, open_case.id)
        assert row is not None
        row.title = "办理中测试：尚未结案的案件"
    open_case.start_claim()
    client = app.test_client()  # nobody logged in

    listing = client.get("/public")
    assert listing.status_code == 200
    text = listing.get_data(as_text=True)
    assert "公开测试：闽江支流镍污染赔偿案" in text and COMPANY["name"] in text
    assert "办理中测试" not in text and "不公开测试" not in text
    assert open_case.view()["number"] not in text

    detail = client.get(f"/public/cases/{published.id}")
    assert detail.status_code == 200
    page = detail.get_data(as_text=True)
    assert COMPANY["name"] in page and "1,250,000.00" in page and "连带赔偿责任" in page
    assert "陈*" in page and "已缴纳" in page
    for secret in (PERSON["name"], PERSON["id_number"], PERSON["id_number"][:17], PERSON["address"], PERSON["contact"],
                   COMPANY["legal_representative"], "非税收入票据0001"):
        assert secret not in page, secret
        assert secret not in text, secret

    for hidden in (unpublished.id, open_case.id, 999_999):
        response = client.get(f"/public/cases/{hidden}")
        assert response.status_code == 404
        assert "不公开测试" not in response.get_data(as_text=True)
        assert "办理中测试" not in response.get_data(as_text=True)


def test_a_terminated_claim_is_not_disclosed(runtime: Runtime, app: Any) -> None:
    case = Case(runtime)
    case.start_claim()
    case.investigate(conclusion="terminate")
    case.do("register_claim_termination", {"termination_reason": "赔偿义务人已依法破产且无财产"})
    case.do("approve_termination_division", {"approved": True, "opinion": "同意终止"})
    assert case.do("approve_termination_department", {"approved": True, "opinion": "同意终止"})["status"] == \
        "claim_terminated"
    client = app.test_client()
    assert client.get(f"/public/cases/{case.id}").status_code == 404
    assert disclosure.published_cases(runtime)["total"] == 0
