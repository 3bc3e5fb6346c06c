"""Template checks (engine.documents.checks, ``eco-claims templates``), what a case provides (context.PROVIDES
against context.build) and the layout rules the templates keep (case number on every form, punctuation)."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from cli.main import main
from engine.documents import checks
from engine.documents import context as ctxmod
from engine.documents.render import CONTRACT, FORMS, TEMPLATE_DIR, render, template_variables
from engine.store.models import Base, Case, Department, HumanTask, Obligor, User
from tests.fixtures.document_contexts import context

ALL_FORMS = sorted(FORMS)


def _template_with_paragraph(folder: Path, form: int, text: str) -> Path:
    """A copy of form ``form``'s template with one more paragraph (e.g. a Jinja tag)."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = Document(str(TEMPLATE_DIR / FORMS[form].filename))
    doc.add_paragraph(text)
    path = folder / FORMS[form].filename
    doc.save(str(path))
    return path


# --------------------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------------------


def test_committed_templates_pass() -> None:
    reports = checks.check_dir()
    assert [r.form for r in reports] == ALL_FORMS
    for report in reports:
        assert report.ok, report.problems
        assert set(report.variables) == template_variables(report.form)
        assert set(report.variables) <= ctxmod.PROVIDES[report.form]


def test_variable_outside_the_contract_is_a_problem(tmp_path: Path) -> None:
    path = _template_with_paragraph(tmp_path, 1, "{{ court }}{{ fax_number }}")
    report = checks.check_file(path, 1)
    assert not report.ok
    assert any("court" in p and "fax_number" in p and "数据约定以外" in p for p in report.problems)
    assert "court" in report.variables and "fax_number" in report.variables


def test_contract_key_a_case_never_provides_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ctxmod.PROVIDES, 4, ctxmod.PROVIDES[4] - {"meeting_place"})
    monkeypatch.setattr(checks, "PROVIDES", ctxmod.PROVIDES)
    report = checks.check_file(TEMPLATE_DIR / FORMS[4].filename, 4)
    assert report.problems == ["案件数据不提供模板使用的变量（生成时必然失败）：meeting_place（磋商会议地点）"]


def test_broken_missing_and_unknown(tmp_path: Path) -> None:
    broken = _template_with_paragraph(tmp_path, 2, "{% if number %}没有结束")
    assert any("语法错误" in p for p in checks.check_file(broken, 2).problems)
    assert checks.check_file(tmp_path / "nothing.docx", 3).problems[0].startswith("模板文件不存在")
    assert checks.check_file(TEMPLATE_DIR / FORMS[1].filename, 8).problems == ["没有第8号文书（应为 1–7）"]
    garbage = tmp_path / "garbage.docx"
    garbage.write_bytes(b"PK not really")
    report = checks.check_file(garbage, 5)
    assert report.variables == [] and "无法读取" in report.problems[0]


def test_form_of_filename() -> None:
    assert checks.form_of_filename(Path("form5_agreement.docx")) == 5
    assert checks.form_of_filename(Path("/x/form7_mine.docx")) == 7
    assert checks.form_of_filename(Path("协议.docx")) is None


def test_format_report_and_contract() -> None:
    report = checks.check_file(TEMPLATE_DIR / FORMS[5].filename, 5)
    lines = checks.format_report(report)
    assert lines[0].endswith("：通过") and "《生态环境损害赔偿协议》" in lines[0]
    assert any("compensation_amount（赔偿金额合计）" in line for line in lines)
    table = checks.format_contract(5)
    assert len(table) == 2 + len(CONTRACT[5])
    row = next(line for line in table if line.strip().startswith("number"))
    assert row.split()[:4] == ["number", "text", "是", "是"]  # forms 5–7 print 编号 in the page header


# --------------------------------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------------------------------


def test_cli_check_all_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates", "check"]) == 0
    out = capsys.readouterr().out
    assert out.count("：通过") == 7 and "共检查 7 个模板，全部通过" in out


def test_cli_check_a_folder_with_a_bad_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATE_DIR, folder)
    _template_with_paragraph(folder, 6, "{{ claimant.fax }}")
    assert main(["templates", "check", "--dir", str(folder), "-q"]) == 1
    out = capsys.readouterr().out
    assert "第6号《司法确认申请书》" in out and "“claimant”没有字段“fax”" in out
    assert "共检查 7 个模板，1 个有问题" in out
    assert main(["templates", "check", "--dir", str(folder), "--form", "5"]) == 0


def test_cli_check_one_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _template_with_paragraph(tmp_path, 3, "{{ signing_place }}")
    assert main(["templates", "check", str(bad)]) == 1  # form taken from the file name
    assert "signing_place" in capsys.readouterr().out
    upload = tmp_path / "上传的模板.docx"
    shutil.copy(TEMPLATE_DIR / FORMS[5].filename, upload)
    assert main(["templates", "check", str(upload)]) == 2  # which form? — say it with --form
    assert "--form" in capsys.readouterr().err
    assert main(["templates", "check", str(upload), "--form", "5"]) == 0
    assert main(["templates", "check", str(upload), "--form", "6"]) == 1  # a form 5 template is no form 6


def test_cli_variables(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates", "variables"]) == 0
    out = capsys.readouterr().out
    for form, info in FORMS.items():
        assert f"第{form}号《{info.title}》" in out
    assert main(["templates", "variables", "--form", "7"]) == 0
    out = capsys.readouterr().out
    assert "confirmation_number" in out and "司法确认文书号" in out and "signing_place" not in out


# --------------------------------------------------------------------------------------------------
# context.build fills exactly PROVIDES, and what it builds renders
# --------------------------------------------------------------------------------------------------

DAY = "2026-05-20"
FULL_DATA: dict[str, Any] = {
    "group": {"id": 1, "obligors": ["福州某化工有限公司", "陈某"]},
    "agent_name": "王经办", "agent_unit_position": "××省生态环境厅法规处",
    "cause": "违法排放含镍废水造成地表水生态环境损害", "remarks": "无",
    "case_summary": "企业暗管偷排含镍废水。", "termination_reason": "赔偿义务人已依法破产且无财产",
    **{f"{p}_{box}": {"opinion": "同意", "signer": "张厅长", "signed_on": DAY}
       for p in ("claim_start", "termination") for box in ("division", "department")},
    "investigators": "王经办、刘某", "investigation_methods": ["documents", "site_survey"],
    "investigation_started_on": DAY, "investigation_ended_on": "2026-06-20", "concluded_on": "2026-06-21",
    "investigation_scope": "排污口下游5公里河段", "damage_facts": "偷排含镍废水。", "assessment_summary": "损害可以修复",
    "evidence": [{"kind": "inspection_record", "title": "现场勘验笔录"}], "legal_basis": "《民法典》第一千二百三十四条",
    "handling_suggestion": "建议开展磋商", "investigation_summary": "损害事实清楚。", "restorable_area": "下游5公里",
    "restoration_requirements": "恢复至Ⅲ类", "team_claimant": "法规处", "invited_units": "检察院",
    "meeting_time": "2026年7月10日上午9时", "meeting_place": "3楼会议室", "other_matters": "无",
    "reply_due_date": "2026-07-08", "notice_date": "2026-07-01",
    "obligations": [{"kind": "payment", "description": "缴纳赔偿金", "amount": "1250000.00", "due_on": "2026-12-31"}],
    "signed_on": "2026-08-01", "signing_place": "福州市", "facts": "偷排。", "evidence_summary": "笔录",
    "liability": "承担全部赔偿责任", "compensation_amount": "1250000.00", "cost_bearing": "义务人承担",
    "other_terms": "无", "agreement_name": "闽江支流镍污染生态环境损害赔偿协议", "local_rules": "《实施方案》",
    "confirmation_court": "福州市中级人民法院", "confirmation_applied_on": "2026-08-05",
    "meetings": [{"date": "2026-07-10"}, {"date": "2026-07-20"}], "served_on": "2026-07-02",
    "facts_found": "偷排含镍废水", "enforcement_court": "福州市中级人民法院", "confirmation_number": "（2026）闽01民特1号",
    "defaulting_obligors": "福州某化工有限公司", "applied_on": "2027-01-10",
}


@pytest.fixture
def session() -> Iterator[Session]:
    eng = create_engine("sqlite://")
    Base.metadata.create_all(eng)
    with Session(eng) as s:
        s.add(Department(id="eco_env", name="生态环境", full_name="××省生态环境厅", uscc="113500000035812344",
                         legal_representative="陈某某", address="福州市华林路", contact="0591-87000000"))
        s.add(User(username="officer1", display_name="王经办", roles="officer", department_id="eco_env"))
        now = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
        case = Case(id=1, number="环赔〔2026〕1号", title="某化工公司偷排含镍废水", lead_source="inspection",
                    found_on=dt.date(2026, 5, 20), department_id="eco_env", created_at=now, created_by="officer1")
        s.add(case)
        s.add_all([
            Obligor(case_id=1, position_no=0, name="福州某化工有限公司", kind="company", uscc="91350100M000100Y43",
                    address="马尾区某路1号", legal_representative="林某", position="执行董事", contact="0591-1"),
            Obligor(case_id=1, position_no=1, name="陈某", kind="person", id_number="11010519491231002X",
                    address="闽侯县某村", work_unit="个体运输户", contact="138"),
        ])
        for i, bpmn_id in enumerate(("register_claim_start", "register_claim_termination", "conduct_investigation")):
            s.add(HumanTask(id=f"t{i}", instance_id=1, case_id=1, bpmn_id=bpmn_id, process_id="eco_damage_claim",
                            title=bpmn_id, form_id=bpmn_id, candidate_role="officer", state="completed",
                            created_at=now, completed_at=now, completed_by="officer1"))
        s.flush()
        yield s
    eng.dispose()


@pytest.mark.parametrize("form", ALL_FORMS)
def test_build_fills_exactly_what_provides_says_and_renders(session: Session, form: int) -> None:
    case = session.get(Case, 1)
    assert case is not None
    built = ctxmod.build(session, case, form, dict(FULL_DATA))
    assert set(built) == ctxmod.PROVIDES[form]
    assert CONTRACT[form] <= ctxmod.PROVIDES[form]
    data = render(form, {k: v for k, v in built.items() if k in CONTRACT[form]})
    assert zipfile.is_zipfile(BytesIO(data))


def test_build_leaves_out_what_the_case_lacks(session: Session) -> None:
    case = session.get(Case, 1)
    assert case is not None
    data = {k: v for k, v in FULL_DATA.items() if k not in ("signing_place", "compensation_amount")}
    built = ctxmod.build(session, case, 5, data)
    assert "signing_place" not in built and "compensation_amount" not in built


# --------------------------------------------------------------------------------------------------
# layout rules of the templates
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", [5, 6, 7])
def test_forms_without_a_number_blank_carry_it_in_the_header(form: int) -> None:
    doc = Document(BytesIO(render(form, context(form))))
    section = doc.sections[0]
    headers = [section.header] + ([section.first_page_header] if section.different_first_page_header_footer else [])
    for header in headers:
        assert header.paragraphs[0].text == "编号：闽环损赔〔2026〕17号"


@pytest.mark.parametrize("form", ALL_FORMS)
def test_templates_switch_off_libreoffice_hanging_punctuation(form: int) -> None:
    doc = Document(str(TEMPLATE_DIR / FORMS[form].filename))
    p_pr = doc.styles["Normal"].element.pPr
    assert p_pr.find(qn("w:overflowPunct")).get(qn("w:val")) == "1"
