"""The seven 索赔文书 templates and engine.documents.render.

Each form is rendered with the realistic context of tests/fixtures/document_contexts.py, reopened with
python-docx (paragraphs and table cells, nested tables included) and checked for every filled value,
left-over Jinja tags, the fixed text of the annex 《生态环境损害索赔文书示范文本》 and, for forms 1 and 3,
the rows of the registration table.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
import re
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.document import Document as DocumentObject
from docx.oxml.ns import qn
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from engine.documents import render as rd
from engine.documents.amounts import money, rmb_upper
from engine.documents.render import (
    CONTRACT,
    FIELDS,
    FORMS,
    TEMPLATE_DIR,
    InvalidDocumentData,
    MissingDocumentData,
    check_template,
    cn_date,
    cn_datetime,
    render,
    template_variables,
)
from tests.fixtures.document_contexts import COMPANY, PERSON, context

ALL_FORMS = sorted(FORMS)

# --------------------------------------------------------------------------------------------------
# Reading a rendered document back
# --------------------------------------------------------------------------------------------------


def open_docx(data: bytes) -> DocumentObject:
    return Document(BytesIO(data))


def _cell_paragraphs(cell: _Cell) -> Iterator[Paragraph]:
    for item in cell.iter_inner_content():
        if isinstance(item, Paragraph):
            yield item
        else:
            yield from _table_paragraphs(item)


def _table_paragraphs(table: Table) -> Iterator[Paragraph]:
    seen: set[int] = set()
    for row in table.rows:
        for cell in row.cells:
            if id(cell._tc) in seen:  # a horizontally merged cell is returned once per grid column
                continue
            seen.add(id(cell._tc))
            yield from _cell_paragraphs(cell)


def all_paragraphs(doc: DocumentObject) -> list[Paragraph]:
    """Body paragraphs and table-cell paragraphs (nested tables too), in document order, then
    headers and footers."""
    out: list[Paragraph] = []
    for item in doc.iter_inner_content():
        if isinstance(item, Paragraph):
            out.append(item)
        else:
            out.extend(_table_paragraphs(item))
    for section in doc.sections:
        for part in (section.header, section.footer, section.first_page_header, section.first_page_footer):
            out.extend(part.paragraphs)
            for table in part.tables:
                out.extend(_table_paragraphs(table))
    return out


def norm(text: str) -> str:
    """Drop all whitespace (spaces, 全角空格, line breaks) — the annex spaces labels out by hand."""
    return re.sub(r"\s+", "", text)


def doc_text(data: bytes) -> str:
    return norm("\n".join(p.text for p in all_paragraphs(open_docx(data))))


@pytest.fixture(scope="module")
def rendered() -> dict[int, bytes]:
    return {form: render(form, context(form)) for form in ALL_FORMS}


# --------------------------------------------------------------------------------------------------
# What each form must show
# --------------------------------------------------------------------------------------------------

# obligor / claimant sub-fields each form prints (by obligor kind)
OBLIGOR_SHOWN: dict[int, dict[str, tuple[str, ...]]] = {
    1: {"company": ("name", "address", "uscc", "legal_representative", "position"),
        "person": ("name", "address", "id_number")},
    2: {"company": ("name", "address", "uscc", "legal_representative", "position", "contact"),
        "person": ("name", "address", "id_number", "work_unit", "contact")},
    4: {"company": ("name", "legal_representative", "uscc", "address"),
        "person": ("name", "id_number", "address")},
    5: {"company": ("name", "uscc", "legal_representative", "position", "address", "contact"),
        "person": ("name", "id_number", "work_unit", "address", "contact")},
    6: {"company": ("name", "uscc", "legal_representative", "position", "address", "contact"),
        "person": ("name", "id_number", "work_unit", "address", "contact")},
    7: {"company": ("name", "address", "contact", "legal_representative", "position"),
        "person": ("name", "address", "contact")},
}
OBLIGOR_SHOWN[3] = OBLIGOR_SHOWN[1]
CLAIMANT_SHOWN: dict[int, tuple[str, ...]] = {
    1: (), 2: (), 3: (),
    4: ("name",),
    5: ("name", "uscc", "legal_representative", "address", "agent_name", "agent_unit_position", "contact"),
    6: ("name", "uscc", "legal_representative", "address", "contact"),
    7: ("name", "address", "legal_representative", "agent_name", "agent_unit_position", "contact"),
}


def _text_pieces(value: Any) -> list[str]:
    """A text as it appears: one piece per line, without the trailing 。 the ``clause`` filter drops."""
    if value is None:
        return []
    return [line.strip().rstrip("。；") for line in str(value).split("\n") if line.strip()]


def _names(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def expected_values(form: int, ctx: dict[str, Any]) -> list[str]:
    """Every filled value the rendered form must contain, formatted as the template formats it."""
    out: list[str] = []
    for key in sorted(template_variables(form)):
        value = ctx[key]
        kind = FIELDS[key][0]
        if kind == "text":
            out += _text_pieces(value)
        elif kind in ("names", "text_list"):
            out += _names(value)
        elif kind == "date":
            out.append(cn_date(value))
        elif kind == "datetime":
            out.append(cn_datetime(value))
        elif kind == "int":
            out.append(str(value))
        elif kind == "decimal":
            out += [money(value), rmb_upper(value)]
        elif kind == "approval":
            out += _text_pieces(value["opinion"]) + [value["signer"], cn_date(value["signed_on"])]
        elif kind == "obligations":
            for ob in value:
                out += [ob["kind_label"], *_names(ob["obligor_names"]), *_text_pieces(ob["description"])]
                if ob["amount"] is not None:
                    out += [money(ob["amount"]), rmb_upper(ob["amount"])]
                if ob["due_on"] is not None:
                    out.append(cn_date(ob["due_on"]))
        elif kind == "party":
            out += [value[f] for f in CLAIMANT_SHOWN[form]]
        elif kind == "obligors":
            for o in value:
                out += [o[f] for f in OBLIGOR_SHOWN[form][o["kind"]]]
    return [v for v in out if v]


OBLIGOR_ROWS = ("名称（姓名）", "地址（住址）", "统一社会信用代码（公民身份证号码）", "法定代表人（负责人）", "职务")
REGISTRATION_TEXT = (
    "案件来源", "案由", "赔偿义务人", *OBLIGOR_ROWS, "经办人：",
    "机构负责人意见", "（具体承担工作单位的内设承担部门，比如法规处）",
    "部门负责人意见", "（权利人指定的部门或机构，比如生态环境厅）", "签名：", "备注",
)

# The fixed wording of the annex, per form. Drafting notes addressed to whoever fills the model in
# (（封 面）, （多个赔偿义务人的逐一列出）, （赔偿义务人是自然人的按如下填写）, （写明赔偿协议内容）,
# （各地方赔偿权利人发布的实施方案、办法等）, and the parenthesis after heading 三 of form 5) are not printed.
ANNEX_TEXT: dict[int, tuple[str, ...]] = {
    1: ("索赔启动登记表", "编号", "案情简介及启动索赔理由", *REGISTRATION_TEXT),
    2: (
        "生态环境损害调查情况登记表", "编号：",
        "案件线索的来源、调查经过（包括案件线索、索赔启动时间和批准启动索赔的机关等；调查经过包括调查人员、"
        "调查方式、调查时间、调查范围等）。",
        "赔偿义务人的基本情况（名称、地址、统一社会信用代码、法定代表人或负责人）。",
        "赔偿义务人造成的生态环境损害事实和相关证据材料（违法行为的具体事实：违法行为的发生时间、地点、"
        "危害后果、鉴定评估情况等，要客观真实，所描述的事实必须有相关证据的支持）。",
        "赔偿义务人承担赔偿、修复责任的法律依据（应当引用相关法律、政策和规范性文件的规定，必须明确）。",
        "调查部门的处理建议（是否需要索赔，说明理由；开展磋商的建议）。",
        "经办人（签名）：",
    ),
    3: ("索赔终止登记表", "原编号", "终止理由", *REGISTRATION_TEXT),
    4: (
        "生态环境损害赔偿磋商告知书",
        "告知人（赔偿权利人或其指定的部门、机构）：", "被告知人（赔偿义务人）：", "法定代表人/企业负责人：",
        "统一社会信用代码（义务人是个人的，填身份证号）：", "地址：",
        "一、生态环境损害赔偿事由",
        "二、生态环境损害调查情况（含调查结论、鉴定评估意见、专家评估意见。对于生态环境损害可以修复的，"
        "应明确可以修复的区域范围和要求）",
        "三、磋商小组人员组成：", "（一）赔偿权利人或其指定的部门或机构：", "（二）受邀参与磋商的单位或部门：",
        "四、磋商会议时间和地点：", "五、其他事项：", "（赔偿权利人或其指定的部门、机构印章）",
    ),
    5: (
        "生态环境损害赔偿协议", "赔偿权利人或其指定的部门、机构：", "赔偿义务人：", "签订时间：", "签订地点：",
        "一、生态环境损害事实、相关证据和法律依据", "（一）事实情况", "（二）相关证据", "（三）相关法律依据及规定",
        "二、生态环境损害责任认定", "三、生态环境损害责任承担、履行方式和期限", "四、其他约定",
        "赔偿权利人或其指定部门、机构（盖章）", "赔偿义务人（盖章）", "法定代表人（签字）",
    ),
    6: (
        "司法确认申请书", "（确认赔偿协议效力）", "申请人（赔偿权利人或其指定的部门、机构）：",
        "统一社会信用代码：", "法定代表人：", "地址（联系方式）：", "申请人（赔偿义务人）：",
        "法定代表人（负责人）：", "身份证号码：", "工作单位或职业：", "住址（联系方式）：", "请求事项：", "确认申请人",
        "生态环境损害赔偿协议有效。", "事实和理由：", "经磋商，达成了如下协议：",
        "申请人根据《生态环境损害赔偿制度改革方案》和", "的规定，为实现受损生态环境的修复和赔偿自愿达成协议，"
        "没有恶意串通、规避法律的行为。", "此致", "人民法院", "附：赔偿协议及证明等材料", "申请人（签名或者盖章）",
    ),
    7: (
        "强制执行申请书", "（经司法确认的赔偿协议）", "申请人名称：", "地址（联系方式）：", "法定代表人：",
        "委托代理人（姓名、工作单位及职务）：", "联系方式：", "被申请人名称或姓名：", "法定代表人（负责人）：",
        "生态环境损害赔偿一案，我单位", "开展生态环境损害调查，查明事实", "我单位通知赔偿义务人进行磋商。",
        "次磋商，双方协商一致达成", "申请司法确认。", "予以司法确认（司法确认文书号",
        "在司法确认的赔偿协议规定期限内未按照协议要求赔偿（开展修复）。",
        "一直未按照协议履行赔偿（修复）义务,因此申请法院强制执行已生效的".replace(",", "，"),
        "号司法确认文书。", "此致", "附：司法确认赔偿协议", "赔偿权利人指定的部门或机构（盖章）",
    ),
}


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ALL_FORMS)
def test_render_fills_every_value(form: int, rendered: dict[int, bytes]) -> None:
    text = doc_text(rendered[form])
    missing = [v for v in expected_values(form, context(form)) if norm(v) not in text]
    assert not missing, f"form {form} lacks {missing}"


@pytest.mark.parametrize("form", ALL_FORMS)
def test_no_template_tags_left(form: int, rendered: dict[int, bytes]) -> None:
    for paragraph in all_paragraphs(open_docx(rendered[form])):
        for tag in ("{{", "}}", "{%", "%}", "{#", "#}"):
            assert tag not in paragraph.text, (form, paragraph.text)
    with zipfile.ZipFile(BytesIO(rendered[form])) as zf:
        for name in zf.namelist():
            if name.endswith(".xml"):
                xml = zf.read(name).decode("utf-8")
                assert "{{" not in xml and "{%" not in xml, (form, name)
                assert "None" not in re.sub(r"<[^>]+>", "", xml), (form, name)


@pytest.mark.parametrize("form", ALL_FORMS)
def test_annex_text_present(form: int, rendered: dict[int, bytes]) -> None:
    text = doc_text(rendered[form])
    absent = [t for t in ANNEX_TEXT[form] if norm(t) not in text]
    assert not absent, f"form {form} lacks annex text {absent}"


@pytest.mark.parametrize("form", ALL_FORMS)
def test_title_is_centred_and_in_title_font(form: int, rendered: dict[int, bytes]) -> None:
    doc = open_docx(rendered[form])
    title = next(p for p in doc.paragraphs if p.text.strip())
    assert title.text == FORMS[form].title
    assert title.alignment == 1  # centre
    r_fonts = title.runs[0]._r.rPr.rFonts
    assert r_fonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    assert title.runs[0].font.size.pt >= 22


@pytest.mark.parametrize("form", ALL_FORMS)
def test_page_is_a4_with_fangsong_body(form: int, rendered: dict[int, bytes]) -> None:
    doc = open_docx(rendered[form])
    section = doc.sections[0]
    assert round(section.page_width.cm, 1) == 21.0
    assert round(section.page_height.cm, 1) == 29.7
    assert 2.0 <= section.left_margin.cm <= 3.0
    normal = doc.styles["Normal"].element.rPr.rFonts
    assert normal.get(qn("w:eastAsia")) == "仿宋"


def test_form4_sentences(rendered: dict[int, bytes]) -> None:
    text = doc_text(rendered[4])
    assert norm("请于2026年9月15日前向我单位提交是否同意参加磋商的书面答复意见。") in text
    assert norm("四、磋商会议时间和地点：2026年9月22日9时30分，福建省生态环境厅第三会议室。") in text
    assert "编号：闽环损磋告〔2026〕5号" in text
    # the company's representative line is printed, the person's obligor block carries the ID number
    assert norm("法定代表人/企业负责人：王某某") in text
    assert norm("统一社会信用代码（义务人是个人的，填身份证号）：11010519491231002X") in text
    assert text.index("2026年9月1日") < text.index("（赔偿权利人或其指定的部门、机构印章）")


def test_form5_cover_parties_obligations_and_signatures(rendered: dict[int, bytes]) -> None:
    doc = open_docx(rendered[5])
    paragraphs = [p for p in doc.paragraphs if p.text.strip()]
    texts = [norm(p.text) for p in paragraphs]
    # cover: title and four lines, then the body starts on a new page with the title again
    assert texts[:5] == [
        "生态环境损害赔偿协议",
        "赔偿权利人或其指定的部门、机构：福建省生态环境厅",
        "赔偿义务人：福州某化工科技有限公司、李某某",
        "签订时间：2026年11月28日",
        "签订地点：福建省福州市",
    ]
    assert texts[5] == "生态环境损害赔偿协议" and paragraphs[5].paragraph_format.page_break_before
    text = doc_text(rendered[5])
    assert norm("赔偿金额合计：1,286,450.60元（大写：人民币壹佰贰拾捌万陆仟肆佰伍拾元零陆角整）。") in text
    assert norm("1.生态环境修复（承担方：福州某化工科技有限公司、李某某）") in text
    assert norm("金额：835,200.00元（人民币捌拾叁万伍仟贰佰元整）。履行期限：2027年6月30日前。") in text
    assert norm("4.修复效果评估（承担方：福州某化工科技有限公司）：修复完成后") in text
    assert "评估费用据实承担。" in text and "评估费用据实承担。金额" not in text  # amount None: no amount
    # every obligor listed in the parties block
    assert text.count("赔偿义务人：") == 3  # cover + company + person
    # the seal block: a borderless two-column table
    table = doc.tables[-1]
    assert len(table.columns) == 2
    borders = table._tbl.tblPr.find(qn("w:tblBorders"))
    assert all(b.get(qn("w:val")) == "nil" for b in borders)
    left = norm(table.rows[0].cells[0].text)
    right = norm(table.rows[0].cells[1].text)
    assert left.startswith("赔偿权利人或其指定部门、机构（盖章）福建省生态环境厅") and "法定代表人（签字）" in left
    assert right == "赔偿义务人（盖章）福州某化工科技有限公司法定代表人（签字）赔偿义务人（签字）李某某"


def test_form6_request_and_reasons(rendered: dict[int, bytes]) -> None:
    text = doc_text(rendered[6])
    assert norm(
        "确认申请人福建省生态环境厅与福州某化工科技有限公司、李某某于2026年11月28日达成的"
        "福州某化工科技有限公司梅溪水污染生态环境损害赔偿协议有效。"
    ) in text
    assert norm(
        "申请人根据《生态环境损害赔偿制度改革方案》和《福建省生态环境损害赔偿制度改革实施方案》的规定，"
        "为实现受损生态环境的修复和赔偿自愿达成协议，没有恶意串通、规避法律的行为。"
    ) in text
    assert norm("2026年11月28日，申请人福建省生态环境厅与福州某化工科技有限公司、李某某经磋商，达成了如下协议：") in text
    # company block and natural-person block chosen by kind
    assert norm("申请人（赔偿义务人）：福州某化工科技有限公司统一社会信用代码：91350100M000100Y43") in text
    assert norm("申请人（赔偿义务人）：李某某身份证号码：11010519491231002X工作单位或职业：") in text
    assert text.count("身份证号码：") == 1
    assert text.index("此致") < text.index("福建省福州市中级人民法院附：赔偿协议及证明等材料")


def test_form7_paragraph(rendered: dict[int, bytes]) -> None:
    text = doc_text(rendered[7])
    assert norm(
        "对福州某化工科技有限公司梅溪水污染生态环境损害赔偿一案，我单位2026年4月21日，开展生态环境损害调查，"
        "查明事实：该公司通过暗管向梅溪排放未经处理的生产废水约2300吨，造成排口下游约1.2公里河段生态环境损害。"
        "2026年9月1日，我单位通知赔偿义务人进行磋商。2026年9月22日至2026年11月20日经过3次磋商，"
        "双方协商一致达成福州某化工科技有限公司梅溪水污染生态环境损害赔偿协议，并于2026年12月5日向"
        "福建省福州市中级人民法院申请司法确认。福建省福州市中级人民法院予以司法确认（司法确认文书号"
        "（2026）闽01民特128号）。赔偿义务人福州某化工科技有限公司在司法确认的赔偿协议规定期限内未按照协议"
        "要求赔偿（开展修复）。由于赔偿义务人福州某化工科技有限公司一直未按照协议履行赔偿（修复）义务，"
        "因此申请法院强制执行已生效的（2026）闽01民特128号司法确认文书。"
    ) in text
    assert text.count("被申请人名称或姓名：") == 2
    assert text.count("法定代表人（负责人）：") == 1  # only the company has one
    assert norm("委托代理人（姓名、工作单位及职务）：林某，福建省生态环境厅法规与标准处一级主任科员") in text


def test_form2_sections_in_order(rendered: dict[int, bytes]) -> None:
    text = doc_text(rendered[2])
    positions = [text.index(p) for p in ("一、案件线索的来源", "二、赔偿义务人的基本情况", "三、赔偿义务人造成的",
                                         "四、赔偿义务人承担赔偿", "五、调查部门的处理建议", "经办人（签名）：林某")]
    assert positions == sorted(positions)
    assert norm("调查方式：收集现有资料、现场踏勘、座谈走访、采样监测。") in text
    assert norm("调查时间：2026年4月21日至2026年7月31日。") in text
    assert norm("（1）名称：福州某化工科技有限公司；地址：") in text
    assert norm("（2）姓名：李某某；住址：") in text
    assert norm("4.生态环境损害鉴定评估报告（闽环科鉴〔2026〕第31号）") in text
    assert "编号：闽环损赔〔2026〕17号" in text


def test_multiline_text_becomes_paragraphs(rendered: dict[int, bytes]) -> None:
    doc = open_docx(rendered[2])
    lines = context(2)["legal_basis"].split("\n")
    texts = [p.text for p in doc.paragraphs]
    for line in lines:
        assert line in texts  # each line its own paragraph


def test_special_characters_are_escaped() -> None:
    ctx = context(1)
    ctx["cause"] = "COD<100 mg/L & pH>6 “引号” 'x'"
    text = doc_text(render(1, ctx))
    assert norm("COD<100 mg/L & pH>6 “引号” 'x'") in text


def test_control_characters_are_dropped() -> None:
    ctx = context(1)
    ctx["remarks"] = "备注\x00\x0b内容"
    assert "备注内容" in doc_text(render(1, ctx))


def test_none_for_fields_not_applicable_renders_empty() -> None:
    ctx = context(6)
    ctx["obligors"][1]["work_unit"] = None
    ctx["obligors"][0]["position"] = ""
    text = doc_text(render(6, ctx))
    assert "None" not in text
    assert norm("工作单位或职业：住址（联系方式）：") in text
    assert norm("法定代表人（负责人）：王某某地址") in text


def test_single_obligor_and_three_obligors() -> None:
    ctx = context(4)
    ctx["obligors"] = [copy.deepcopy(COMPANY)]
    text = doc_text(render(4, ctx))
    assert text.count("被告知人（赔偿义务人）：") == 1 and "李某某" not in text
    third = {**copy.deepcopy(PERSON), "name": "张某", "id_number": "440524188001010014"}
    ctx["obligors"] = [COMPANY, PERSON, third]
    text = doc_text(render(4, ctx))
    assert text.count("被告知人（赔偿义务人）：") == 3 and "440524188001010014" in text


def test_dates_may_be_iso_strings() -> None:
    ctx = context(6)
    ctx["applied_on"] = "2026-12-05"
    assert "2026年12月5日" in doc_text(render(6, ctx))


def test_amounts_may_be_strings() -> None:
    ctx = context(5)
    ctx["compensation_amount"] = "1286450.60"
    assert "1,286,450.60元" in doc_text(render(5, ctx))


# --------------------------------------------------------------------------------------------------
# Forms 1 and 3: the registration table
# --------------------------------------------------------------------------------------------------


def table_rows(data: bytes) -> list[list[str]]:
    """Each row as the normalised texts of its w:tc cells (merged cells once)."""
    doc = open_docx(data)
    assert len(doc.tables) == 1
    return [[norm(_Cell(tc, doc.tables[0]).text) for tc in tr.tc_lst] for tr in doc.tables[0]._tbl.tr_lst]


def _obligor_block(o: dict[str, Any], first: bool) -> list[list[str]]:
    code = o["uscc"] if o["kind"] == "company" else o["id_number"]
    return [
        ["赔偿义务人" if first else "", "名称（姓名）", o["name"]],
        ["", "地址（住址）", norm(o["address"])],
        ["", "统一社会信用代码（公民身份证号码）", code],
        ["", "法定代表人（负责人）", o["legal_representative"] or "", "职务", o["position"] or ""],
    ]


def _box(text: str, sign_label: str, signer: str, date: dt.date) -> str:
    return norm(text) + sign_label + signer + cn_date(date)


@pytest.mark.parametrize(("form", "number_label", "reason_label", "reason_key"), [
    (1, "编号", "案情简介及启动索赔理由", "case_summary"),
    (3, "原编号", "终止理由", "termination_reason"),
])
@pytest.mark.parametrize("obligor_count", [1, 2])
def test_registration_table_rows(form: int, number_label: str, reason_label: str, reason_key: str,
                                 obligor_count: int) -> None:
    ctx = context(form)
    ctx["obligors"] = ctx["obligors"][:obligor_count]
    rows = table_rows(render(form, ctx))
    division, department = ctx["division"], ctx["department"]
    expected = [
        ["案件来源", norm(ctx["lead_source_label"]), number_label, ctx["number"]],
        ["案由", norm(ctx["cause"])],
    ]
    for i, o in enumerate(ctx["obligors"]):
        expected += _obligor_block(o, first=i == 0)
    expected += [
        [reason_label, _box(ctx[reason_key], "经办人：", ctx["officer_name"], ctx["registered_on"])],
        ["机构负责人意见（具体承担工作单位的内设承担部门，比如法规处）",
         _box(division["opinion"], "签名：", division["signer"], division["signed_on"])],
        ["部门负责人意见（权利人指定的部门或机构，比如生态环境厅）",
         _box(department["opinion"], "签名：", department["signer"], department["signed_on"])],
        ["备注", norm(ctx["remarks"] or "")],
    ]
    assert rows == expected
    assert len(rows) == 6 + 4 * obligor_count  # the annex's ten rows with one obligor


@pytest.mark.parametrize("form", [1, 3])
def test_registration_table_merges(form: int, rendered: dict[int, bytes]) -> None:
    doc = open_docx(rendered[form])
    table = doc.tables[0]
    trs = table._tbl.tr_lst
    grid = len(table._tbl.tblGrid.gridCol_lst)
    for tr in trs:  # every row spans the whole grid
        assert sum(tc.grid_span for tc in tr.tc_lst) == grid
    obligor_rows = trs[2:2 + 4 * len(context(form)["obligors"])]
    merges = [tr.tc_lst[0].vMerge for tr in obligor_rows]
    assert merges == ["restart"] + ["continue"] * (len(obligor_rows) - 1)  # one 赔偿义务人 label for all
    for tr in trs[:2] + trs[2 + len(obligor_rows):]:
        assert tr.tc_lst[0].vMerge is None
    borders = table._tbl.tblPr.find(qn("w:tblBorders"))
    assert {b.get(qn("w:val")) for b in borders} == {"single"}


# --------------------------------------------------------------------------------------------------
# Missing and invalid data
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ALL_FORMS)
def test_each_missing_key_raises(form: int) -> None:
    for key in sorted(template_variables(form)):
        ctx = context(form)
        del ctx[key]
        with pytest.raises(MissingDocumentData) as info:
            render(form, ctx)
        assert info.value.missing == [key]
        assert info.value.form == form
        message = str(info.value)
        assert key in message and FIELDS[key][1] in message and FORMS[form].title in message
        assert "缺少" in message


def test_missing_error_is_a_value_error_and_lists_all() -> None:
    ctx = context(1)
    del ctx["cause"], ctx["remarks"]
    with pytest.raises(ValueError, match="案由（cause）") as info:
        render(1, ctx)
    assert isinstance(info.value, MissingDocumentData)
    assert info.value.missing == ["cause", "remarks"]


@pytest.mark.parametrize(("form", "mutate", "path", "label"), [
    (6, lambda c: c["obligors"][1].pop("work_unit"), "obligors[1].work_unit", "第2个赔偿义务人的工作单位或职业"),
    (6, lambda c: c["claimant"].pop("uscc"), "claimant.uscc", "赔偿权利人或其指定的部门、机构的统一社会信用代码"),
    (1, lambda c: c["division"].pop("signed_on"), "division.signed_on", "机构负责人意见的签署日期"),
    (1, lambda c: c["division"].update(signed_on=None), "division.signed_on", "机构负责人意见的签署日期"),
    (1, lambda c: c.update(registered_on=None), "registered_on", "经办人签署日期"),
    (1, lambda c: c.update(obligors=[]), "obligors", "赔偿义务人"),
    (2, lambda c: c.update(evidence=[]), "evidence", "证据材料"),
    (5, lambda c: c["obligations"][0].pop("due_on"), "obligations[0].due_on", "第1项责任承担、履行方式和期限的履行期限"),
    (5, lambda c: c.update(compensation_amount=None), "compensation_amount", "赔偿金额合计"),
    (7, lambda c: c.update(meeting_count=None), "meeting_count", "磋商次数"),
    (4, lambda c: c.update(meeting_time=None), "meeting_time", "磋商会议时间"),
])
def test_missing_nested_or_empty_data(form: int, mutate: Any, path: str, label: str) -> None:
    ctx = context(form)
    mutate(ctx)
    with pytest.raises(MissingDocumentData) as info:
        render(form, ctx)
    assert info.value.missing == [path]
    assert label in str(info.value)


@pytest.mark.parametrize(("form", "mutate", "fragment"), [
    (1, lambda c: c["obligors"][0].update(kind="organisation"), "company 或 person"),
    (1, lambda c: c.update(registered_on="28/11/2026"), "经办人签署日期"),
    (5, lambda c: c.update(compensation_amount=1.5), "赔偿金额合计"),
    (5, lambda c: c.update(compensation_amount=Decimal("1.005")), "两位小数"),
    (2, lambda c: c.update(evidence="一份笔录"), "证据材料"),
    (7, lambda c: c.update(meeting_count="3"), "磋商次数"),
    (4, lambda c: c.update(claimant="福建省生态环境厅"), "dict"),
])
def test_invalid_data(form: int, mutate: Any, fragment: str) -> None:
    ctx = context(form)
    mutate(ctx)
    with pytest.raises(InvalidDocumentData, match=re.escape(fragment)):
        render(form, ctx)


def test_optional_values_may_be_none() -> None:
    ctx = context(1)
    ctx["remarks"] = None
    assert "备注" in doc_text(render(1, ctx))
    ctx = context(5)
    ctx["obligations"] = []
    render(5, ctx)


def test_unknown_form() -> None:
    with pytest.raises(ValueError, match="第8号"):
        render(8, {})


# --------------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------------


def test_cn_date() -> None:
    assert cn_date(dt.date(2026, 11, 28)) == "2026年11月28日"
    assert cn_date(dt.date(2027, 1, 5)) == "2027年1月5日"
    assert cn_date("2026-11-28") == "2026年11月28日"
    assert cn_date(dt.datetime(2026, 11, 28, 10, 0)) == "2026年11月28日"
    for bad in (None, "", "2026/11/28", "2026-13-01", 20261128):
        with pytest.raises(ValueError):
            cn_date(bad)


def test_cn_datetime() -> None:
    assert cn_datetime(dt.datetime(2026, 9, 22, 9, 30)) == "2026年9月22日9时30分"
    assert cn_datetime(dt.datetime(2026, 9, 22, 14, 0)) == "2026年9月22日14时"
    assert cn_datetime(dt.date(2026, 9, 22)) == "2026年9月22日"
    assert cn_datetime("2026年9月22日上午") == "2026年9月22日上午"
    with pytest.raises(ValueError):
        cn_datetime(None)


def test_other_filters() -> None:
    assert rd.names(["甲", "乙", None, ""]) == "甲、乙"
    assert rd.names("甲、乙") == "甲、乙"
    assert rd.names(None) == ""
    assert rd.clause("查明事实。") == "查明事实"
    assert str(rd.paras("一\n\n二 \r\n三")) == "一\a二\a三"
    assert str(rd.paras("a<b")) == "a&lt;b"
    assert rd.money(Decimal("12345.6")) == "12,345.60"
    assert rd.rmb_upper("0.05") == "人民币伍分"


# --------------------------------------------------------------------------------------------------
# Templates, contract and checking uploads
# --------------------------------------------------------------------------------------------------


def test_forms_registry() -> None:
    assert ALL_FORMS == [1, 2, 3, 4, 5, 6, 7]
    assert [FORMS[f].title for f in ALL_FORMS] == [
        "索赔启动登记表", "生态环境损害调查情况登记表", "索赔终止登记表", "生态环境损害赔偿磋商告知书",
        "生态环境损害赔偿协议", "司法确认申请书", "强制执行申请书",
    ]
    for form, info in FORMS.items():
        assert info.number == form
        assert info.slug.isascii() and re.fullmatch(r"[a-z_]+", info.slug)
        assert info.filename == f"form{form}_{info.slug}.docx"
        assert (TEMPLATE_DIR / info.filename).is_file()


@pytest.mark.parametrize("form", ALL_FORMS)
def test_template_uses_its_contract(form: int) -> None:
    used = template_variables(form)
    assert used <= CONTRACT[form]
    assert CONTRACT[form] - {"number", "claimant", "obligors"} <= used  # every form-specific key has a blank
    assert "obligors" in used
    assert all(key in FIELDS for key in CONTRACT[form])
    assert set(context(form)) == CONTRACT[form]  # the fixture follows the contract exactly


@pytest.mark.parametrize("form", ALL_FORMS)
def test_committed_templates_pass_the_check(form: int) -> None:
    assert check_template(TEMPLATE_DIR / FORMS[form].filename, form) == []


def _template_with_extra_paragraph(tmp_path: Path, form: int, text: str) -> Path:
    doc = Document(str(TEMPLATE_DIR / FORMS[form].filename))
    doc.add_paragraph(text)
    path = tmp_path / f"edited{form}.docx"
    doc.save(str(path))
    return path


@pytest.mark.parametrize(("text", "fragment"), [
    ("{{ foo }}", "foo"),
    ("{{ case_summary }}", "case_summary"),  # form 1's key, not form 4's
    ("{{ cause ", "语法错误"),
    ("{% if cause %}", "语法错误"),
    ("{{ cause|nope }}", "nope"),
    ("{{ claimant.nmae }}", "nmae"),
    ("{% for o in obligors %}{{ o.adress }}{% endfor %}", "adress"),
    ("{{ obligors|map(attribute='full_name')|join('、') }}", "full_name"),
    ("{{ division.opinion }}", "division"),
    ("{{ notice_date|money }}", "试生成失败"),
])
def test_check_template_reports_problems(tmp_path: Path, text: str, fragment: str) -> None:
    problems = check_template(_template_with_extra_paragraph(tmp_path, 4, text), 4)
    assert problems and fragment in " ".join(problems), problems


def test_check_template_accepts_an_edited_template(tmp_path: Path) -> None:
    path = _template_with_extra_paragraph(tmp_path, 4, "抄送：{{ invited_units|names }}（{{ claimant.contact }}）")
    assert check_template(path, 4) == []
    path.rename(tmp_path / FORMS[4].filename)
    text = doc_text(render(4, context(4), template_dir=tmp_path))
    assert "抄送：福州市人民检察院、闽清县人民政府（0591-87000000）" in text


def test_check_template_rejects_non_docx(tmp_path: Path) -> None:
    bad = tmp_path / "x.docx"
    bad.write_bytes(b"not a zip")
    problems = check_template(bad, 1)
    assert problems and "无法读取" in problems[0]
    assert check_template(TEMPLATE_DIR / FORMS[1].filename, 9) != []


def test_build_script_reproduces_templates_that_pass_the_check(tmp_path: Path) -> None:
    script = TEMPLATE_DIR / "build_templates.py"
    spec = importlib.util.spec_from_file_location("build_templates", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.build(tmp_path)
    assert sorted(p.name for p in written) == sorted(FORMS[f].filename for f in ALL_FORMS)
    again = module.build(tmp_path / "again")
    for first, second in zip(written, again, strict=True):
        assert first.read_bytes() == second.read_bytes()  # reproducible builds
    for form in ALL_FORMS:
        assert check_template(tmp_path / FORMS[form].filename, form) == []


def test_unknown_sub_field_in_a_replacement_template_is_missing_data(tmp_path: Path) -> None:
    path = _template_with_extra_paragraph(tmp_path, 6, "{{ claimant.fax }}")
    path.rename(tmp_path / FORMS[6].filename)
    with pytest.raises(MissingDocumentData) as info:
        render(6, context(6), template_dir=tmp_path)
    assert info.value.missing == ["fax"]
