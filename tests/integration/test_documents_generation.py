"""Documents generated at the service tasks of a real case (SQLite and PostgreSQL): what they contain, new versions
on regeneration (engine.services.documents.regenerate), and an incident naming the field a template needs but the
case lacks."""

from __future__ import annotations

import shutil
from io import BytesIO
from pathlib import Path

import pytest
from docx import Document

from engine.auth.users import get_actor
from engine.common.errors import BadRequest, Conflict, Forbidden, NotFound, ValidationFailed
from engine.documents.render import FORMS, TEMPLATE_DIR
from engine.services import documents as service
from engine.services import incidents, tasks
from tests.unit.test_document_templates import all_paragraphs

from .driver import COMPANY, PERSON, Case


def docx_text(content: bytes) -> str:
    """Body, tables and page headers of a stored .docx."""
    doc = Document(BytesIO(content))
    parts = [p.text for p in all_paragraphs(doc)]
    for section in doc.sections:
        for header in (section.header, section.first_page_header):
            parts.extend(p.text for p in header.paragraphs)
    return "\n".join(parts)


@pytest.fixture
def agreed_case(runtime) -> Case:
    """A case whose forms 1, 2, 4, 5 and 6 exist (agreement signed, judicial confirmation applied for)."""
    case = Case(runtime)
    case.start_claim()
    case.investigate()
    case.prepare_and_serve()
    case.agree(judicial=True)
    assert sorted(d["form"] for d in case.view()["documents"]) == [1, 2, 4, 5, 6]
    return case


def test_stored_documents_open_and_carry_number_and_obligors(runtime, agreed_case: Case) -> None:
    number = agreed_case.view()["number"]
    listed = service.list_for_case(runtime, agreed_case.officer, agreed_case.id)
    assert [(d["form"], d["version"], d["latest"]) for d in listed] == [(f, 1, True) for f in (1, 2, 4, 5, 6)]
    for item in listed:
        content, name, mimetype = service.download(runtime, agreed_case.officer, item["id"])
        assert name == f"{number}-{FORMS[item['form']].title}-v1.docx" == item["filename"]
        assert mimetype == service.DOCX_MIME and item["size"] == len(content)
        text = docx_text(content)
        assert number in text, f"form {item['form']} lacks the case number"
        for obligor in (COMPANY, PERSON):
            assert obligor["name"] in text, f"form {item['form']} lacks {obligor['name']}"
        assert "{{" not in text and "{%" not in text


def test_regenerating_makes_version_n_plus_1_and_keeps_version_n(runtime, agreed_case: Case) -> None:
    officer = agreed_case.officer
    v1 = next(d for d in service.list_for_case(runtime, officer, agreed_case.id) if d["form"] == 5)
    v1_content = service.download(runtime, officer, v1["id"])[0]

    out = service.regenerate(runtime, officer, agreed_case.id, 5)
    assert (out["form"], out["version"], out["group"], out["task"]) == (5, 2, 1, "render_form5")
    again = service.regenerate(runtime, get_actor(runtime, "division1"), agreed_case.id, 5, group=1)
    assert again["version"] == 3 and again["created_by"] == "division1"

    fives = [d for d in service.list_for_case(runtime, officer, agreed_case.id) if d["form"] == 5]
    assert [(d["version"], d["latest"]) for d in fives] == [(1, False), (2, False), (3, True)]
    assert service.download(runtime, officer, v1["id"])[0] == v1_content  # version 1 untouched
    content, name, _ = service.download(runtime, officer, out["id"])
    assert name.endswith("-生态环境损害赔偿协议-v2.docx")
    assert agreed_case.view()["number"] in docx_text(content)

    one = service.regenerate(runtime, officer, agreed_case.id, 1)  # a form of the main process, no group
    assert (one["version"], one["group"]) == (2, None)
    view = agreed_case.view()
    assert sorted((d["form"], d["version"]) for d in view["documents"]) == [
        (1, 1), (1, 2), (2, 1), (4, 1), (5, 1), (5, 2), (5, 3), (6, 1)]
    assert "生成文书：生态环境损害赔偿协议 第3版" in [h["title"] for h in view["history"]]


def test_regenerate_refusals(runtime, agreed_case: Case) -> None:
    with pytest.raises(NotFound):  # another department's officer does not see the case
        service.regenerate(runtime, get_actor(runtime, "officer2"), agreed_case.id, 5)
    with pytest.raises(Forbidden):  # sees every case, but does not draw documents
        service.regenerate(runtime, get_actor(runtime, "supervisor1"), agreed_case.id, 5)
    with pytest.raises(Conflict, match="尚未生成《强制执行申请书》"):
        service.regenerate(runtime, agreed_case.officer, agreed_case.id, 7)
    with pytest.raises(Conflict, match="第2组"):
        service.regenerate(runtime, agreed_case.officer, agreed_case.id, 5, group=2)
    with pytest.raises(BadRequest):
        service.regenerate(runtime, agreed_case.officer, agreed_case.id, 8)
    assert len(service.list_for_case(runtime, agreed_case.officer, agreed_case.id)) == 5


def _template_needing(folder: Path, form: int, text: str) -> Path:
    shutil.copytree(TEMPLATE_DIR, folder)
    path = folder / FORMS[form].filename
    doc = Document(str(path))
    doc.add_paragraph(text)
    doc.save(str(path))
    return folder


def test_template_needing_data_the_case_lacks_raises_an_incident_naming_the_field(runtime, tmp_path: Path) -> None:
    runtime.config.templates_dir = _template_needing(tmp_path / "templates", 1, "签订地点：{{ signing_place }}")
    case = Case(runtime)
    case.do("screen_lead", {"screening_result": "start_claim", "screening_reason": "符合启动情形"})
    case.do("register_claim_start", {"cause": "违法排污", "case_summary": "偷排含镍废水", "obligors": [COMPANY]})
    case.do("approve_claim_start_division", {"approved": True, "opinion": "同意"})
    item = case.task("approve_claim_start_department")
    out = tasks.complete(runtime, get_actor(runtime, "dept1"), item["id"], {"approved": True, "opinion": "同意"})

    incident = out["incident"]
    assert incident is not None and incident["element"] == "render_form1"
    assert "索赔启动登记表" in incident["message"]
    assert "签订地点（signing_place）" in incident["message"]
    assert out["case"]["documents"] == []
    assert "approve_claim_start_department" not in case.open_tasks()  # the approval is kept

    # with the template fixed, a supervisor's retry generates version 1
    runtime.config.templates_dir = TEMPLATE_DIR
    supervisor = get_actor(runtime, "supervisor1")
    assert incidents.retry(runtime, supervisor, incident["id"])["resolved"] is True
    assert [(d["form"], d["version"]) for d in case.view()["documents"]] == [(1, 1)]


def test_regenerate_with_a_template_needing_missing_data_is_refused_naming_the_field(runtime, agreed_case: Case,
                                                                                   tmp_path: Path) -> None:
    runtime.config.templates_dir = _template_needing(tmp_path / "templates", 4, "{{ court }}")
    with pytest.raises(ValidationFailed) as refused:
        service.regenerate(runtime, agreed_case.officer, agreed_case.id, 4)
    assert "人民法院（court）" in refused.value.message
    assert refused.value.fields == {"court": "缺少人民法院"}
    assert [d["version"] for d in service.list_for_case(runtime, agreed_case.officer, agreed_case.id)
            if d["form"] == 4] == [1]


def test_form5_prints_every_obligation_kind_by_its_chinese_label(runtime) -> None:
    """Enum values reach the document as the labels the form shows, never as ids (restoration, payment, …)."""
    import re

    from engine.documents.context import _labels

    kinds = _labels("draft_agreement", "obligations.kind")
    assert len(kinds) >= 8 and all(re.search(r"[\u4e00-\u9fff]", label) for label in kinds.values())
    case = Case(runtime)
    case.start_claim()
    case.investigate()
    case.prepare_and_serve()
    case.do("record_obligor_reply", {"obligor_reply": "accepts", "replied_on": case.today()})
    case.meeting("agreed")
    obligations = [{"kind": kind, "description": f"第{i}项义务", "due_on": "2026-12-31",
                    **({"amount": "1000.00", "account": "treasury"} if kind == "payment" else {})}
                   for i, kind in enumerate(kinds, start=1)]
    case.do("draft_agreement", {
        "facts": "企业偷排含镍废水", "evidence_summary": "勘验笔录", "legal_basis": "《民法典》", "liability": "全部责任",
        "remedy": "both", "compensation_amount": "1000.00", "payment_due_on": "2026-12-31", "cost_bearing": "由义务人承担",
        "signing_place": "福州市", "planned_signing_on": case.today(), "agreement_name": "赔偿协议",
        "restoration_mode": "third_party", "restoration_start_on": case.today(), "restoration_due_on": "2027-06-30",
        "obligations": obligations})
    case.do("sign_agreement", {"signed_on": case.today(), "apply_judicial_confirmation": False})
    form5 = [d for d in case.view()["documents"] if d["form"] == 5]
    text = docx_text(service.download(runtime, case.officer, form5[-1]["id"])[0])
    for kind, label in kinds.items():
        assert label in text, f"form 5 lacks the label {label} of {kind}"
        assert not re.search(rf"(?<![A-Za-z_]){re.escape(kind)}(?![A-Za-z_])", text), f"form 5 prints the id {kind}"
