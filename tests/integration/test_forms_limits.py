"""Free text has sane limits (issue 9 §7): lengths, titles and names that show what they say, and a ledger search that
takes "%" and "_" literally — through the use cases, on the database."""

from __future__ import annotations

from typing import Any

import pytest

from engine.common.errors import ValidationFailed
from engine.services import case_ledger, cases, tasks
from engine.services.case_ledger import LedgerFilter

from .driver import COMPANY, LEAD, Case


def register(runtime: Any, case: Case, **changes: Any) -> dict[str, Any]:
    return cases.register_lead(runtime, case.officer, {**LEAD, **changes})


def refused(runtime: Any, case: Case, **changes: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        register(runtime, case, **changes)
    return caught.value.fields


def test_a_megabyte_description_is_refused_naming_the_field(runtime: Any) -> None:
    case = Case(runtime)
    fields = refused(runtime, case, description="污" * 1_000_000)
    assert fields == {"description": '"线索情况"最多 5000 个字符'}
    assert register(runtime, case, description="污" * 5000)["description"] == "污" * 5000


def test_a_title_of_invisible_characters_is_refused(runtime: Any) -> None:
    case = Case(runtime)
    assert refused(runtime, case, title="\u200b\u200c\u200d") == {"title": '"线索名称"不能只由空白或不可见字符组成'}
    assert refused(runtime, case, title="\ufeff \u2060") == {"title": '"线索名称"不能只由空白或不可见字符组成'}
    assert refused(runtime, case, title=" \u3000 ") == {"title": '"线索名称"为必填项'}


@pytest.mark.parametrize("control", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
                                     "\u2069"])
def test_a_title_or_a_name_with_a_bidi_control_is_refused(runtime: Any, control: str) -> None:
    case = Case(runtime)
    assert refused(runtime, case, title=f"某化工公司偷排{control}废水") == {
        "title": '"线索名称"不能含有文字方向控制字符（U+202A–U+202E、U+2066–U+2069）'}
    assert refused(runtime, case, obligors=[dict(COMPANY, name=f"福州{control}某化工有限公司")]) == {
        "obligors.0.name": '"赔偿义务人 第1项 名称（姓名）"不能含有文字方向控制字符（U+202A–U+202E、U+2066–U+2069）'}


def test_every_text_of_the_lead_has_a_limit(runtime: Any) -> None:
    case = Case(runtime)
    fields = refused(runtime, case, title="题" * 301, location="地" * 301, department="d" * 41,
                     obligors=[dict(COMPANY, address="址" * 301, contact="1" * 101)])
    assert fields == {
        "title": '"线索名称"最多 300 个字符', "location": '"发生地点"最多 300 个字符', "department": '"承办部门"最多 40 个字符',
        "obligors.0.address": '"赔偿义务人 第1项 地址（住址）"最多 300 个字符',
        "obligors.0.contact": '"赔偿义务人 第1项 联系方式"最多 100 个字符'}


def test_a_task_refuses_an_overlong_opinion(runtime: Any) -> None:
    case = Case(runtime)
    item = case.task("screen_lead")
    with pytest.raises(ValidationFailed) as caught:
        tasks.complete(runtime, case.officer, item["id"], {"screening_result": "no_claim", "screening_reason": "理" * 5001})
    assert caught.value.fields == {"screening_reason": '"理由"最多 5000 个字符'}
    assert case.open_tasks() == ["screen_lead"]


def test_dates_and_amounts_out_of_bounds_are_refused_by_the_task(runtime: Any) -> None:
    case = Case(runtime)
    case.start_claim()
    case.investigate()
    case.prepare_and_serve()
    case.do("record_obligor_reply", {"obligor_reply": "accepts", "replied_on": case.today()})
    case.meeting("agreed")
    item = case.task("draft_agreement")
    data = {"facts": "偷排", "evidence_summary": "笔录", "legal_basis": "《民法典》", "liability": "全部责任",
            "remedy": "compensation", "compensation_amount": "1000000000000.00", "payment_due_on": "9999-12-31",
            "cost_bearing": "义务人承担", "signing_place": "福州市", "planned_signing_on": "0001-01-01",
            "agreement_name": "赔偿协议"}
    with pytest.raises(ValidationFailed) as caught:
        tasks.complete(runtime, case.officer, item["id"], data)
    assert caught.value.fields == {
        "compensation_amount": '"赔偿金额（元）"应小于1万亿元（整数部分最多12位）',
        "payment_due_on": '"赔偿金缴纳期限"应在 1949-10-01 至 2100-12-31 之间',
        "planned_signing_on": '"拟签订日期"应在 1949-10-01 至 2100-12-31 之间'}


# --- the ledger search ---------------------------------------------------------------------------------------


def titles(runtime: Any, case: Case, q: str) -> list[str]:
    return sorted(item["title"] for item in case_ledger.search(runtime, case.officer, LedgerFilter(q=q))["items"])


def test_ledger_search_takes_percent_and_underscore_literally(runtime: Any) -> None:
    case = Case(runtime)
    for title in ("镍超标100%的河段", "镍超标1000倍的河段", "监测点A_1超标", "监测点AB1超标", "路径C:\\data\\1", "路径C:data1"):
        register(runtime, case, title=title)
    assert titles(runtime, case, "100%") == ["镍超标100%的河段"]
    assert titles(runtime, case, "%") == ["镍超标100%的河段"]
    assert titles(runtime, case, "A_1") == ["监测点A_1超标"]
    assert titles(runtime, case, "_") == ["监测点A_1超标"]
    assert titles(runtime, case, "C:\\data") == ["路径C:\\data\\1"]
    assert titles(runtime, case, "镍超标100") == sorted(["镍超标1000倍的河段", "镍超标100%的河段"])
