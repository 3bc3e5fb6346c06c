"""Build the seven docxtpl templates of 《生态环境损害索赔文书示范文本》 (model forms [1]–[7]).

This script is how the templates in this folder were first made::

    .venv/bin/python document_templates/build_templates.py [output_dir]

The committed .docx files are the source of truth from then on: an analyst may open one in Word or
LibreOffice, edit the wording or layout and put it back (check it with
``engine.documents.render.check_template``). Re-running this script overwrites such edits, so only
do that on purpose. The context each template may use is described in ``CONTEXT.md``.

Rules kept while building: every Jinja tag sits inside one run (docxtpl needs that); loops over
obligors use ``{%p ...%}`` paragraphs or ``{%tr ...%}`` table rows; values go through the filters of
``engine.documents.render`` (``cn_date``, ``money``, ``rmb_upper``, ``paras``, ``names``, ``clause``,
``cn_datetime``). The output is byte-for-byte reproducible (fixed zip timestamps and core properties).
"""

from __future__ import annotations

import datetime as dt
import sys
import zipfile
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_LINE_SPACING, WD_PARAGRAPH_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table, _Cell, _Row
from docx.text.paragraph import Paragraph
from docx.text.run import Run

HERE = Path(__file__).resolve().parent

LATIN = "Times New Roman"
FANGSONG = "仿宋"
KAITI = "楷体"
HEITI = "黑体"
TITLE_FONT = "方正小标宋简体"

ERHAO, SANHAO, SIHAO, XIAOSI, WUHAO, XIAOWU = 22.0, 16.0, 14.0, 12.0, 10.5, 9.0
BUILD_TIME = dt.datetime(2026, 1, 1, 0, 0, 0)

CENTER = WD_PARAGRAPH_ALIGNMENT.CENTER
RIGHT = WD_PARAGRAPH_ALIGNMENT.RIGHT
LEFT = WD_PARAGRAPH_ALIGNMENT.LEFT
JUSTIFY = WD_PARAGRAPH_ALIGNMENT.JUSTIFY

Container = DocumentObject | _Cell

# ------------------------------------------------------------------------------------------------
# Low-level helpers
# ------------------------------------------------------------------------------------------------


def set_run_font(run: Run, east_asia: str, size: float, bold: bool = False) -> None:
    """Latin text in Times New Roman, Chinese in ``east_asia`` (w:rFonts/@w:eastAsia)."""
    run.font.name = LATIN
    r_fonts = run._r.get_or_add_rPr().get_or_add_rFonts()
    r_fonts.set(qn("w:eastAsia"), east_asia)
    r_fonts.set(qn("w:hint"), "eastAsia")
    run.font.size = Pt(size)
    run.font.bold = bold


def new_document(title: str, *, form_margins: bool) -> DocumentObject:
    """A4 document, 仿宋 body. Letters use the 公文 margins (GB/T 9704); the registration forms (1, 3) use less, so
    that their table is 17 cm wide (``REG_WIDTHS``)."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    if form_margins:
        section.top_margin, section.bottom_margin = Cm(2.54), Cm(2.54)
        section.left_margin, section.right_margin = Cm(FORM_SIDE_MARGIN), Cm(FORM_SIDE_MARGIN)
    else:
        section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
        section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    section.header_distance, section.footer_distance = Cm(1.5), Cm(2.0)

    normal = doc.styles["Normal"]
    normal.font.name = LATIN  # type: ignore[attr-defined]
    normal.font.size = Pt(SANHAO)  # type: ignore[attr-defined]
    r_pr = normal.element.get_or_add_rPr()
    r_fonts = r_pr.get_or_add_rFonts()
    r_fonts.set(qn("w:eastAsia"), FANGSONG)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    r_pr.append(lang)
    pf = normal.paragraph_format  # type: ignore[attr-defined]
    pf.space_before, pf.space_after = Pt(0), Pt(0)
    # Punctuation at the end of a line: LibreOffice 7.4 lets a 、，。 that does not fit hang past the right margin
    # and then does not draw it (the PDF loses it). It reads w:overflowPunct inverted: an explicit "1" (Word's
    # own default, "allow punctuation to extend past the margin", so Word is unchanged) turns hanging *off* in
    # LibreOffice, which then wraps the character before it. tests/integration/test_documents_pdf.py checks that
    # every paragraph's text survives the conversion.
    overflow = OxmlElement("w:overflowPunct")
    overflow.set(qn("w:val"), "1")
    normal.element.pPr.find(qn("w:spacing")).addprevious(overflow)  # schema order: … overflowPunct … spacing

    props = doc.core_properties
    props.title = title
    props.subject = "生态环境损害索赔文书示范文本"
    props.author = ""
    props.last_modified_by = ""
    props.keywords = ""
    props.comments = "docxtpl template built by document_templates/build_templates.py"
    props.created = BUILD_TIME
    props.modified = BUILD_TIME
    props.revision = 1
    return doc


def par(
    container: Container,
    runs: str | Sequence[tuple[str, str, float, bool]] = "",
    *,
    font: str = FANGSONG,
    size: float = SANHAO,
    bold: bool = False,
    align: WD_PARAGRAPH_ALIGNMENT = JUSTIFY,
    indent_chars: float = 0,
    right_indent_chars: float = 0,
    line_pt: float | None = 28,
    before: float = 0,
    after: float = 0,
    first: bool = False,
    keep_with_next: bool = False,
    page_break_before: bool = False,
) -> Paragraph:
    """Add one paragraph; ``runs`` is a text (one run) or (text, font, size, bold) tuples.

    ``first`` reuses a table cell's existing empty first paragraph.
    """
    p = container.paragraphs[0] if first and isinstance(container, _Cell) else container.add_paragraph()
    pf = p.paragraph_format
    pf.alignment = align
    pf.space_before, pf.space_after = Pt(before), Pt(after)
    if line_pt is None:
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(line_pt)
    if indent_chars:
        pf.first_line_indent = Pt(size * indent_chars)
    if right_indent_chars:
        pf.right_indent = Pt(size * right_indent_chars)
    if keep_with_next:
        pf.keep_with_next = True
    if page_break_before:
        pf.page_break_before = True
    if isinstance(runs, str):
        runs = [(runs, font, size, bold)] if runs else []
    for text, run_font, run_size, run_bold in runs:
        set_run_font(p.add_run(text), run_font, run_size, run_bold)
    return p


def tag(container: Container, text: str, *, first: bool = False) -> Paragraph:
    """A paragraph holding only a docxtpl paragraph tag such as ``{%p for o in obligors %}``."""
    return par(container, text, size=WUHAO, align=LEFT, line_pt=None, first=first)


def title(doc: DocumentObject, text: str, *, subtitle: str | None = None, after: float = 14,
          page_break_before: bool = False, size: float = ERHAO) -> None:
    par(doc, text, font=TITLE_FONT, size=size, align=CENTER, line_pt=None,
        after=0 if subtitle else after, page_break_before=page_break_before)
    if subtitle:
        par(doc, subtitle, font=KAITI, size=SANHAO, align=CENTER, line_pt=None, before=4, after=after)


def body(doc: Container, text: str, **kwargs: object) -> Paragraph:
    """A 仿宋 三号 body paragraph, first line indented two characters."""
    return par(doc, text, indent_chars=2, **kwargs)  # type: ignore[arg-type]


def line(doc: Container, text: str, **kwargs: object) -> Paragraph:
    """A left-aligned body line without indent (party blocks, 此致 addressee)."""
    return par(doc, text, align=LEFT, **kwargs)  # type: ignore[arg-type]


def heading(doc: Container, text: str, value: str | None = None, *, font: str = HEITI) -> Paragraph:
    """A numbered section heading (黑体; 楷体 for （一） level), optionally followed by a 仿宋 value."""
    runs: list[tuple[str, str, float, bool]] = [(text, font, SANHAO, False)]
    if value:
        runs.append((value, FANGSONG, SANHAO, False))
    return par(doc, runs, indent_chars=2, keep_with_next=value is None)


def signature(doc: Container, text: str, *, before: float = 0) -> Paragraph:
    """A right-aligned line of the signing block (signer, seal note, date)."""
    return par(doc, text, align=RIGHT, right_indent_chars=2, before=before)


def blank(doc: Container, n: int = 1) -> None:
    for _ in range(n):
        par(doc, "")


def add_page_number_footer(doc: DocumentObject, *, skip_first: bool) -> None:
    """公文-style page number "— 1 —" centred in the footer (not on the cover when ``skip_first``)."""
    section = doc.sections[0]
    section.different_first_page_header_footer = skip_first
    p = section.footer.paragraphs[0]
    p.alignment = CENTER
    set_run_font(p.add_run("— "), FANGSONG, SIHAO)
    run = p.add_run()
    set_run_font(run, FANGSONG, SIHAO)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind is not None:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            t = OxmlElement("w:t")
            t.text = text
            run._r.append(t)
    set_run_font(p.add_run(" —"), FANGSONG, SIHAO)


def add_number_header(doc: DocumentObject) -> None:
    """"编号：{{ number }}" at the top right of every page (first page too): the case number on the forms whose
    annex text has no 编号 blank (5–7), so that every generated document carries it."""
    section = doc.sections[0]
    headers = [section.header]
    if section.different_first_page_header_footer:
        headers.append(section.first_page_header)
    for header in headers:
        header.is_linked_to_previous = False
        p = header.paragraphs[0]
        p.alignment = RIGHT
        set_run_font(p.add_run("编号：{{ number }}"), FANGSONG, XIAOSI)


def save(doc: DocumentObject, path: Path) -> None:
    """Save with fixed zip timestamps so that rebuilding gives identical bytes."""
    raw = BytesIO()
    doc.save(raw)
    raw.seek(0)
    out = BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=BUILD_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    path.write_bytes(out.getvalue())


# ------------------------------------------------------------------------------------------------
# Tables
# ------------------------------------------------------------------------------------------------


def set_table_borders(table: Table, val: str) -> None:
    """All borders single (``val="single"``) or none (``val="nil"``)."""
    tbl_pr = table._tbl.tblPr
    for old in tbl_pr.findall(qn("w:tblBorders")):
        tbl_pr.remove(old)
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), val)
        if val != "nil":
            el.set(qn("w:sz"), "6")
            el.set(qn("w:space"), "0")
            el.set(qn("w:color"), "000000")
        borders.append(el)
    # schema order inside tblPr: … tblW, jc, tblCellSpacing, tblInd, tblBorders …
    anchor = tbl_pr.find(qn("w:tblLayout"))
    if anchor is not None:
        anchor.addprevious(borders)
    else:
        tbl_pr.append(borders)


def new_table(doc: DocumentObject, widths_cm: Sequence[float], *, borders: bool) -> Table:
    table = doc.add_table(rows=0, cols=len(widths_cm))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)
    set_table_borders(table, "single" if borders else "nil")
    return table


def add_row(table: Table, widths_cm: Sequence[float], *, min_height_cm: float | None = None) -> _Row:
    row = table.add_row()
    for cell, width in zip(row.cells, widths_cm, strict=True):
        cell.width = Cm(width)
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    if min_height_cm is not None:
        row.height = Cm(min_height_cm)
        row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.insert(0, OxmlElement("w:cantSplit"))  # a row is never broken across pages
    return row


def cell_text(cell: _Cell, text: str, *, align: WD_PARAGRAPH_ALIGNMENT = CENTER, size: float = XIAOSI,
              font: str = FANGSONG) -> Paragraph:
    return par(cell, text, align=align, size=size, font=font, line_pt=None, first=True)


# ------------------------------------------------------------------------------------------------
# Forms 1 and 3: registration tables
# ------------------------------------------------------------------------------------------------

# Columns: vertical 赔偿义务人 label | row labels (fits 小四 "（公民身份证号码）") | value (案件来源, 法定代表人) |
# 编号 / 职务 label | 编号 value (职务). 17.0 cm = A4 width − 2 × FORM_SIDE_MARGIN.
# The 编号 cell must hold the longest case number on one line whatever fonts the converting machine has:
# "某某环损赔字〔2026〕1117号" (a 6-character prefix, 4-digit serial) at 小四 is 9 full-width characters
# (108 pt) + 8 digits: 48 pt in Times New Roman or its metric twin Liberation Serif, 61 pt in DejaVu Serif, the
# widest fallback LibreOffice picks when neither is installed: 169 pt ≈ 5.97 cm, + 2 × 0.19 cm cell margins
# = 6.35 cm. 6.6 cm leaves some room; tests/integration/test_documents_pdf.py checks the PDF.
FORM_SIDE_MARGIN = 2.0
REG_WIDTHS = (1.0, 4.2, 3.5, 1.7, 6.6)
DIVISION_NOTE = "（具体承担工作单位的内设承担部门，比如法规处）"
DEPARTMENT_NOTE = "（权利人指定的部门或机构，比如生态环境厅）"


def _label_value_row(table: Table, label: str, value: str) -> None:
    row = add_row(table, REG_WIDTHS, min_height_cm=1.0)
    c = row.cells
    cell_text(c[0].merge(c[1]), label)
    cell_text(c[2].merge(c[4]), value, align=LEFT)


def _tag_row(table: Table, text: str) -> None:
    row = add_row(table, REG_WIDTHS)
    c = row.cells
    cell_text(c[0].merge(c[4]), text, align=LEFT, size=WUHAO)


def _obligor_row(table: Table, label: str, value: str, merge: str,
                 extra: tuple[str, str] | None = None, vertical_label: str | None = None) -> None:
    row = add_row(table, REG_WIDTHS, min_height_cm=0.8)
    c = row.cells
    c[0]._tc.vMerge = merge
    if vertical_label:
        cell_text(c[0], "\n".join(vertical_label))
    cell_text(c[1], label)
    if extra is None:
        cell_text(c[2].merge(c[4]), value, align=LEFT)
    else:
        cell_text(c[2], value, align=LEFT)
        cell_text(c[3], extra[0])
        cell_text(c[4], extra[1], align=LEFT)


def _signed_box(table: Table, labels: Sequence[str], note: str | None, content: str, sign_label: str,
                signer: str, date: str, *, min_height_cm: float) -> None:
    row = add_row(table, REG_WIDTHS, min_height_cm=min_height_cm)
    c = row.cells
    label_cell = c[0].merge(c[1])
    for i, text in enumerate(labels):
        par(label_cell, text, align=CENTER, size=XIAOSI, line_pt=None, first=i == 0)
    if note:
        par(label_cell, note, align=CENTER, size=XIAOWU, line_pt=None, before=2)
    box = c[2].merge(c[4])
    box.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP
    par(box, content, align=JUSTIFY, size=XIAOSI, indent_chars=2, line_pt=20, before=4, first=True)
    par(box, f"{sign_label}{signer}", align=RIGHT, size=XIAOSI, right_indent_chars=6, line_pt=20, before=12)
    par(box, date, align=RIGHT, size=XIAOSI, right_indent_chars=1, line_pt=20, after=4)


def registration_form(
    form_title: str, number_label: str, reason_label: str, reason_key: str
) -> DocumentObject:
    doc = new_document(form_title, form_margins=True)
    title(doc, form_title)
    table = new_table(doc, REG_WIDTHS, borders=True)

    row = add_row(table, REG_WIDTHS, min_height_cm=1.0)
    c = row.cells
    cell_text(c[0].merge(c[1]), "案件来源")
    cell_text(c[2], "{{ lead_source_label }}", align=LEFT)
    cell_text(c[3], number_label)
    cell_text(c[4], "{{ number }}", align=LEFT)
    _label_value_row(table, "案\u3000\u3000由", "{{ cause }}")

    # 赔偿义务人: four rows per obligor; the vertical label cell is merged over all obligors' rows.
    _tag_row(table, "{%tr for o in obligors %}")
    _tag_row(table, "{%tr if loop.first %}")
    _obligor_row(table, "名称（姓名）", "{{ o.name }}", "restart", vertical_label="赔偿义务人")
    _tag_row(table, "{%tr else %}")
    _obligor_row(table, "名称（姓名）", "{{ o.name }}", "continue")
    _tag_row(table, "{%tr endif %}")
    _obligor_row(table, "地址（住址）", "{{ o.address }}", "continue")
    _obligor_row(table, "统一社会信用代码\n（公民身份证号码）",
                 "{% if o.kind == 'company' %}{{ o.uscc }}{% else %}{{ o.id_number }}{% endif %}", "continue")
    _obligor_row(table, "法定代表人\n（负责人）", "{{ o.legal_representative }}", "continue",
                 extra=("职\u3000务", "{{ o.position }}"))
    _tag_row(table, "{%tr endfor %}")

    _signed_box(table, [reason_label], None, f"{{{{ {reason_key}|paras }}}}", "经办人：",
                "{{ officer_name }}", "{{ registered_on|cn_date }}", min_height_cm=5.0)
    _signed_box(table, ["机构负责人", "意\u3000\u3000见"], DIVISION_NOTE, "{{ division.opinion|paras }}",
                "签名：", "{{ division.signer }}", "{{ division.signed_on|cn_date }}", min_height_cm=3.4)
    _signed_box(table, ["部门负责人", "意\u3000\u3000见"], DEPARTMENT_NOTE, "{{ department.opinion|paras }}",
                "签名：", "{{ department.signer }}", "{{ department.signed_on|cn_date }}", min_height_cm=3.4)
    row = add_row(table, REG_WIDTHS, min_height_cm=1.4)
    c = row.cells
    cell_text(c[0].merge(c[1]), "备\u3000\u3000注")
    cell_text(c[2].merge(c[4]), "{{ remarks|paras }}", align=LEFT)
    return doc


def form1() -> DocumentObject:
    return registration_form("索赔启动登记表", "编\u3000号", "案情简介及\n启动索赔理由", "case_summary")


def form3() -> DocumentObject:
    return registration_form("索赔终止登记表", "原编号", "终止理由", "termination_reason")


# ------------------------------------------------------------------------------------------------
# Form 2: investigation record
# ------------------------------------------------------------------------------------------------

FORM2_SECTIONS = (
    "一、案件线索的来源、调查经过（包括案件线索、索赔启动时间和批准启动索赔的机关等；调查经过包括调查人员、"
    "调查方式、调查时间、调查范围等）。",
    "二、赔偿义务人的基本情况（名称、地址、统一社会信用代码、法定代表人或负责人）。",
    "三、赔偿义务人造成的生态环境损害事实和相关证据材料（违法行为的具体事实：违法行为的发生时间、地点、"
    "危害后果、鉴定评估情况等，要客观真实，所描述的事实必须有相关证据的支持）。",
    "四、赔偿义务人承担赔偿、修复责任的法律依据（应当引用相关法律、政策和规范性文件的规定，必须明确）。",
    "五、调查部门的处理建议（是否需要索赔，说明理由；开展磋商的建议）。",
)


def form2() -> DocumentObject:
    doc = new_document("生态环境损害调查情况登记表", form_margins=False)
    title(doc, "生态环境损害调查情况登记表", after=6)
    par(doc, "编号：{{ number }}", align=RIGHT, after=12)

    heading(doc, FORM2_SECTIONS[0])
    body(doc, "案件线索来源：{{ lead_source_label|clause }}。")
    body(doc, "索赔启动时间：{{ claim_started_on|cn_date }}；"
              "批准启动索赔的机关：{{ approving_authority|clause }}。")
    body(doc, "调查人员：{{ investigators|names }}。")
    body(doc, "调查方式：{{ investigation_methods|names }}。")
    body(doc, "调查时间：{{ investigation_started_on|cn_date }}至{{ investigation_ended_on|cn_date }}。")
    body(doc, "调查范围：{{ investigation_scope|paras }}")

    heading(doc, FORM2_SECTIONS[1])
    tag(doc, "{%p for o in obligors %}")
    tag(doc, "{%p if o.kind == 'company' %}")
    body(doc, "（{{ loop.index }}）名称：{{ o.name }}；地址：{{ o.address }}；"
              "统一社会信用代码：{{ o.uscc }}；法定代表人：{{ o.legal_representative }}"
              "{% if o.position %}（{{ o.position }}）{% endif %}"
              "{% if o.contact %}；联系方式：{{ o.contact }}{% endif %}。")
    tag(doc, "{%p else %}")
    body(doc, "（{{ loop.index }}）姓名：{{ o.name }}；住址：{{ o.address }}；"
              "公民身份证号码：{{ o.id_number }}"
              "{% if o.work_unit %}；工作单位或职业：{{ o.work_unit }}{% endif %}"
              "{% if o.contact %}；联系方式：{{ o.contact }}{% endif %}。")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")

    heading(doc, FORM2_SECTIONS[2])
    body(doc, "{{ damage_facts|paras }}")
    body(doc, "鉴定评估情况：{{ assessment_summary|paras }}")
    body(doc, "证据材料：")
    tag(doc, "{%p for e in evidence %}")
    body(doc, "{{ loop.index }}. {{ e }}")
    tag(doc, "{%p endfor %}")

    heading(doc, FORM2_SECTIONS[3])
    body(doc, "{{ legal_basis|paras }}")

    heading(doc, FORM2_SECTIONS[4])
    body(doc, "{{ handling_suggestion|paras }}")

    signature(doc, "经办人（签名）：{{ officer_name }}", before=28)
    signature(doc, "{{ concluded_on|cn_date }}")
    return doc


# ------------------------------------------------------------------------------------------------
# Form 4: consultation notice
# ------------------------------------------------------------------------------------------------

FORM4_SECTION2 = (
    "二、生态环境损害调查情况（含调查结论、鉴定评估意见、专家评估意见。对于生态环境损害可以修复的，"
    "应明确可以修复的区域范围和要求）"
)
REPLY_SENTENCE = (
    "请于{{ reply_due_on|cn_date }}前向我单位提交是否同意参加磋商的书面答复意见。"
    "未在规定时间内提交答复意见的，可以视为磋商不成。"
)


def form4() -> DocumentObject:
    doc = new_document("生态环境损害赔偿磋商告知书", form_margins=False)
    title(doc, "生态环境损害赔偿磋商告知书", after=6)
    par(doc, "编号：{{ number }}", align=RIGHT, after=12)

    line(doc, "告知人（赔偿权利人或其指定的部门、机构）：{{ claimant.name }}")
    tag(doc, "{%p for o in obligors %}")
    line(doc, "被告知人（赔偿义务人）：{{ o.name }}")
    tag(doc, "{%p if o.kind == 'company' %}")
    line(doc, "法定代表人/企业负责人：{{ o.legal_representative }}")
    line(doc, "统一社会信用代码（义务人是个人的，填身份证号）：{{ o.uscc }}")
    tag(doc, "{%p else %}")
    line(doc, "统一社会信用代码（义务人是个人的，填身份证号）：{{ o.id_number }}")
    tag(doc, "{%p endif %}")
    line(doc, "地址：{{ o.address }}")
    tag(doc, "{%p endfor %}")

    heading(doc, "一、生态环境损害赔偿事由")
    body(doc, "{{ cause|paras }}")
    heading(doc, FORM4_SECTION2)
    body(doc, "{{ investigation_summary|paras }}")
    body(doc, "{{ assessment_summary|paras }}")
    body(doc, "{{ restorable_area_requirements|paras }}")
    heading(doc, "三、磋商小组人员组成：")
    body(doc, "（一）赔偿权利人或其指定的部门或机构：{{ team_claimant|names }}")
    body(doc, "（二）受邀参与磋商的单位或部门：{{ invited_units|names }}")
    heading(doc, "四、磋商会议时间和地点：", "{{ meeting_time|cn_datetime }}，{{ meeting_place|clause }}。")
    heading(doc, "五、其他事项：")
    body(doc, "{{ other_matters|paras }}")
    body(doc, REPLY_SENTENCE)

    signature(doc, "{{ notice_date|cn_date }}", before=42)
    signature(doc, "（赔偿权利人或其指定的部门、机构印章）")
    return doc


# ------------------------------------------------------------------------------------------------
# Form 5: agreement
# ------------------------------------------------------------------------------------------------

OBLIGATION_LINE = (
    "{{ loop.index }}. {{ ob.kind_label }}（承担方：{{ ob.obligor_names|names }}）："
    "{{ ob.description|clause }}。"
    "{% if ob.amount is not none %}金额：{{ ob.amount|money }}元（{{ ob.amount|rmb_upper }}）。{% endif %}"
    "{% if ob.due_on is not none %}履行期限：{{ ob.due_on|cn_date }}前。{% endif %}"
)


def form5() -> DocumentObject:
    doc = new_document("生态环境损害赔偿协议", form_margins=False)
    add_page_number_footer(doc, skip_first=True)
    add_number_header(doc)

    # cover page
    blank(doc, 5)
    title(doc, "生态环境损害赔偿协议", size=26, after=0)
    blank(doc, 6)
    cover_lines = (
        "赔偿权利人或其指定的部门、机构：{{ claimant.name }}",
        "赔偿义务人：{{ obligors|map(attribute='name')|join('、') }}",
        "签订时间：{{ signed_on|cn_date }}",
        "签订地点：{{ signing_place }}",
    )
    for text in cover_lines:
        p = par(doc, text, align=LEFT, line_pt=36)
        p.paragraph_format.left_indent = Cm(1.0)

    # parties
    title(doc, "生态环境损害赔偿协议", page_break_before=True)
    line(doc, "赔偿权利人或其指定的部门、机构：{{ claimant.name }}")
    line(doc, "统一社会信用代码：{{ claimant.uscc }}")
    line(doc, "法定代表人：{{ claimant.legal_representative }}")
    line(doc, "地址：{{ claimant.address }}")
    tag(doc, "{%p if claimant.agent_name %}")
    line(doc, "委托代理人：{{ claimant.agent_name }}{% if claimant.agent_unit_position %}，"
              "{{ claimant.agent_unit_position }}{% endif %}")
    tag(doc, "{%p endif %}")
    line(doc, "联系方式：{{ claimant.contact }}")
    tag(doc, "{%p for o in obligors %}")
    line(doc, "赔偿义务人：{{ o.name }}", before=8)
    tag(doc, "{%p if o.kind == 'company' %}")
    line(doc, "统一社会信用代码：{{ o.uscc }}")
    line(doc, "法定代表人：{{ o.legal_representative }}{% if o.position %}，{{ o.position }}{% endif %}")
    line(doc, "地址：{{ o.address }}")
    tag(doc, "{%p else %}")
    line(doc, "公民身份证号码：{{ o.id_number }}")
    tag(doc, "{%p if o.work_unit %}")
    line(doc, "工作单位或职业：{{ o.work_unit }}")
    tag(doc, "{%p endif %}")
    line(doc, "住址：{{ o.address }}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if o.contact %}")
    line(doc, "联系方式：{{ o.contact }}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")
    blank(doc)

    heading(doc, "一、生态环境损害事实、相关证据和法律依据")
    heading(doc, "（一）事实情况", font=KAITI)
    body(doc, "{{ facts|paras }}")
    heading(doc, "（二）相关证据", font=KAITI)
    body(doc, "{{ evidence_summary|paras }}")
    heading(doc, "（三）相关法律依据及规定", font=KAITI)
    body(doc, "{{ legal_basis|paras }}")
    heading(doc, "二、生态环境损害责任认定")
    body(doc, "{{ liability|paras }}")
    heading(doc, "三、生态环境损害责任承担、履行方式和期限")
    tag(doc, "{%p for ob in obligations %}")
    body(doc, OBLIGATION_LINE)
    tag(doc, "{%p endfor %}")
    body(doc, "赔偿金额合计：{{ compensation_amount|money }}元"
              "（大写：{{ compensation_amount|rmb_upper }}）。")
    body(doc, "费用负担：{{ cost_bearing|paras }}")
    heading(doc, "四、其他约定")
    # the last clause and the seal block stay on one page: a signature page never stands alone
    body(doc, "{{ other_terms|paras }}", keep_with_next=True)
    for _ in range(2):
        par(doc, "", keep_with_next=True)

    # seal / signature block: borderless two-column table
    widths = (8.6, 7.0)
    table = new_table(doc, widths, borders=False)
    row = add_row(table, widths)
    left, right = row.cells
    left.vertical_alignment = right.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP
    par(left, "赔偿权利人或其指定部门、机构\n（盖章）", align=LEFT, line_pt=None, first=True)
    par(left, "{{ claimant.name }}", align=LEFT, line_pt=None, before=6)
    par(left, "法定代表人（签字）", align=LEFT, line_pt=None, before=48, after=36)
    tag(right, "{%p for o in obligors %}", first=True)
    par(right, "{% if o.kind == 'company' %}赔偿义务人（盖章）{% else %}赔偿义务人（签字）{% endif %}",
        align=LEFT, line_pt=None)
    par(right, "{{ o.name }}", align=LEFT, line_pt=None, before=6)
    tag(right, "{%p if o.kind == 'company' %}")
    par(right, "法定代表人（签字）", align=LEFT, line_pt=None, before=48)
    tag(right, "{%p endif %}")
    par(right, "", line_pt=None, after=36)
    tag(right, "{%p endfor %}")
    return doc


# ------------------------------------------------------------------------------------------------
# Form 6: application for judicial confirmation
# ------------------------------------------------------------------------------------------------

OBLIGOR_NAMES = "{{ obligors|map(attribute='name')|join('、') }}"
CONTACT_SUFFIX = "{% if o.contact %}（{{ o.contact }}）{% endif %}"
POSITION_SUFFIX = "{% if o.position %}，{{ o.position }}{% endif %}"


def form6() -> DocumentObject:
    doc = new_document("司法确认申请书", form_margins=False)
    add_number_header(doc)
    title(doc, "司法确认申请书", subtitle="（确认赔偿协议效力）")

    line(doc, "申请人（赔偿权利人或其指定的部门、机构）：{{ claimant.name }}")
    line(doc, "统一社会信用代码：{{ claimant.uscc }}")
    line(doc, "法定代表人：{{ claimant.legal_representative }}")
    line(doc, "地址（联系方式）：{{ claimant.address }}"
              "{% if claimant.contact %}（{{ claimant.contact }}）{% endif %}")
    tag(doc, "{%p for o in obligors %}")
    tag(doc, "{%p if o.kind == 'company' %}")
    line(doc, "申请人（赔偿义务人）：{{ o.name }}", before=8)
    line(doc, "统一社会信用代码：{{ o.uscc }}")
    line(doc, "法定代表人（负责人）：{{ o.legal_representative }}" + POSITION_SUFFIX)
    line(doc, "地址（联系方式）：{{ o.address }}" + CONTACT_SUFFIX)
    tag(doc, "{%p else %}")
    line(doc, "申请人（赔偿义务人）：{{ o.name }}", before=8)
    line(doc, "身份证号码：{{ o.id_number }}")
    line(doc, "工作单位或职业：{{ o.work_unit }}")
    line(doc, "住址（联系方式）：{{ o.address }}" + CONTACT_SUFFIX)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")

    heading(doc, "请求事项：").paragraph_format.first_line_indent = None
    body(doc, "确认申请人{{ claimant.name }}与" + OBLIGOR_NAMES
         + "于{{ agreement_signed_on|cn_date }}达成的{{ agreement_name }}有效。")
    heading(doc, "事实和理由：").paragraph_format.first_line_indent = None
    body(doc, "{{ agreement_signed_on|cn_date }}，申请人{{ claimant.name }}与" + OBLIGOR_NAMES
         + "经磋商，达成了如下协议：")
    body(doc, "{{ agreement_summary|paras }}")
    body(doc, "申请人根据《生态环境损害赔偿制度改革方案》和{{ local_rules }}的规定，"
              "为实现受损生态环境的修复和赔偿自愿达成协议，没有恶意串通、规避法律的行为。")
    body(doc, "此致", before=14)
    line(doc, "{{ court }}")
    body(doc, "附：赔偿协议及证明等材料", before=14)
    signature(doc, "申请人（签名或者盖章）", before=42)
    signature(doc, "{{ applied_on|cn_date }}")
    return doc


# ------------------------------------------------------------------------------------------------
# Form 7: application for enforcement
# ------------------------------------------------------------------------------------------------

FORM7_PARAGRAPH = (
    "对{{ case_name }}一案，我单位{{ investigation_started_on|cn_date }}，开展生态环境损害调查，"
    "查明事实：{{ facts_found|clause }}。{{ notice_served_on|cn_date }}，我单位通知赔偿义务人进行磋商。"
    "{{ meetings_from|cn_date }}至{{ meetings_to|cn_date }}经过{{ meeting_count }}次磋商，"
    "双方协商一致达成{{ agreement_name }}，"
    "并于{{ confirmation_applied_on|cn_date }}向{{ court }}申请司法确认。"
    "{{ court }}予以司法确认（司法确认文书号{{ confirmation_number }}）。"
    "赔偿义务人{{ defaulting_obligors|names }}在司法确认的赔偿协议规定期限内未按照协议要求赔偿（开展修复）。"
    "由于赔偿义务人{{ defaulting_obligors|names }}一直未按照协议履行赔偿（修复）义务，"
    "因此申请法院强制执行已生效的{{ confirmation_number }}司法确认文书。"
)


def form7() -> DocumentObject:
    doc = new_document("强制执行申请书", form_margins=False)
    add_number_header(doc)
    title(doc, "强制执行申请书", subtitle="（经司法确认的赔偿协议）")

    line(doc, "申请人名称：{{ claimant.name }}")
    line(doc, "地址（联系方式）：{{ claimant.address }}"
              "{% if claimant.contact %}（{{ claimant.contact }}）{% endif %}")
    line(doc, "法定代表人：{{ claimant.legal_representative }}")
    line(doc, "委托代理人（姓名、工作单位及职务）：{{ claimant.agent_name }}"
              "{% if claimant.agent_unit_position %}，{{ claimant.agent_unit_position }}{% endif %}")
    line(doc, "联系方式：{{ claimant.contact }}")
    tag(doc, "{%p for o in obligors %}")
    line(doc, "被申请人名称或姓名：{{ o.name }}", before=8)
    line(doc, "地址（联系方式）：{{ o.address }}" + CONTACT_SUFFIX)
    tag(doc, "{%p if o.kind == 'company' %}")
    line(doc, "法定代表人（负责人）：{{ o.legal_representative }}" + POSITION_SUFFIX)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")

    body(doc, FORM7_PARAGRAPH, before=14)
    body(doc, "此致", before=14)
    line(doc, "{{ court }}")
    body(doc, "附：司法确认赔偿协议", before=14)
    signature(doc, "赔偿权利人指定的部门或机构（盖章）", before=42)
    signature(doc, "{{ applied_on|cn_date }}")
    return doc


# ------------------------------------------------------------------------------------------------

BUILDERS = {
    "form1_claim_start.docx": form1,
    "form2_investigation.docx": form2,
    "form3_claim_termination.docx": form3,
    "form4_consultation_notice.docx": form4,
    "form5_agreement.docx": form5,
    "form6_judicial_confirmation.docx": form6,
    "form7_enforcement.docx": form7,
}


def build(output_dir: Path = HERE) -> list[Path]:
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, builder in BUILDERS.items():
        path = output_dir / filename
        save(builder(), path)
        written.append(path)
    return written


def main(argv: Sequence[str]) -> int:
    output_dir = Path(argv[1]) if len(argv) > 1 else HERE
    for path in build(output_dir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
