"""Rendering of the seven 生态环境损害索赔文书 (《生态环境损害索赔文书示范文本》) from docxtpl templates.

Pure: no database, no Flask. A caller builds a context dict following ``CONTRACT`` (see
``document_templates/CONTEXT.md``) and gets the .docx bytes back from ``render``. Nothing is ever rendered
with an empty blank: a key the template uses but the context lacks, a missing sub-field of the claimant,
an obligor, an approval or an obligation, or a date that is None raises ``MissingDocumentData``.

Templates live in ``document_templates/`` (built by ``document_templates/build_templates.py``, then
editable in Word/LibreOffice). ``check_template`` vets a replacement template before it is accepted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

from docx import Document
from docx.opc.oxml import parse_xml
from docxtpl import DocxTemplate
from jinja2 import Environment, StrictUndefined, TemplateError, nodes
from jinja2.exceptions import TemplateSyntaxError, UndefinedError
from markupsafe import Markup, escape

from engine.common.dates import as_date
from engine.documents import amounts

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "document_templates"


@dataclass(frozen=True)
class FormInfo:
    number: int
    filename: str
    title: str
    slug: str


FORMS: dict[int, FormInfo] = {
    1: FormInfo(1, "form1_claim_start.docx", "索赔启动登记表", "claim_start"),
    2: FormInfo(2, "form2_investigation.docx", "生态环境损害调查情况登记表", "investigation"),
    3: FormInfo(3, "form3_claim_termination.docx", "索赔终止登记表", "claim_termination"),
    4: FormInfo(4, "form4_consultation_notice.docx", "生态环境损害赔偿磋商告知书", "consultation_notice"),
    5: FormInfo(5, "form5_agreement.docx", "生态环境损害赔偿协议", "agreement"),
    6: FormInfo(6, "form6_judicial_confirmation.docx", "司法确认申请书", "judicial_confirmation"),
    7: FormInfo(7, "form7_enforcement.docx", "强制执行申请书", "enforcement"),
}

# --------------------------------------------------------------------------------------------------
# The context contract
# --------------------------------------------------------------------------------------------------

FieldKind = Literal[
    "text",  # str; None renders as ""
    "names",  # str, or list of str joined with "、"
    "text_list",  # non-empty list of str
    "date",  # datetime.date or "YYYY-MM-DD"; None is missing
    "datetime",  # datetime.datetime, datetime.date or preformatted str; None is missing
    "int",
    "decimal",  # Decimal, str or int; None is missing
    "party",  # dict with PARTY_FIELDS
    "obligors",  # non-empty list of dicts with OBLIGOR_FIELDS
    "approval",  # dict with APPROVAL_FIELDS
    "obligations",  # list of dicts with OBLIGATION_FIELDS
]

PARTY_FIELDS: dict[str, str] = {
    "name": "名称",
    "uscc": "统一社会信用代码",
    "legal_representative": "法定代表人",
    "address": "地址",
    "contact": "联系方式",
    "agent_name": "委托代理人姓名",
    "agent_unit_position": "委托代理人工作单位及职务",
}
OBLIGOR_FIELDS: dict[str, str] = {
    "name": "名称（姓名）",
    "kind": "类型（company 或 person）",
    "uscc": "统一社会信用代码",
    "id_number": "公民身份证号码",
    "address": "地址（住址）",
    "legal_representative": "法定代表人（负责人）",
    "position": "职务",
    "work_unit": "工作单位或职业",
    "contact": "联系方式",
}
OBLIGOR_KINDS = ("company", "person")
APPROVAL_FIELDS: dict[str, str] = {"opinion": "意见", "signer": "签名", "signed_on": "签署日期"}
OBLIGATION_FIELDS: dict[str, str] = {
    "kind_label": "责任类型",
    "obligor_names": "承担该项责任的赔偿义务人",
    "description": "内容",
    "amount": "金额",
    "due_on": "履行期限",
}
_NESTED: dict[str, dict[str, str]] = {
    "party": PARTY_FIELDS,
    "obligors": OBLIGOR_FIELDS,
    "approval": APPROVAL_FIELDS,
    "obligations": OBLIGATION_FIELDS,
}

FIELDS: dict[str, tuple[FieldKind, str]] = {
    # common
    "number": ("text", "编号"),
    "claimant": ("party", "赔偿权利人或其指定的部门、机构"),
    "obligors": ("obligors", "赔偿义务人"),
    # forms 1–3
    "lead_source_label": ("text", "案件来源"),
    "cause": ("text", "案由"),
    "case_summary": ("text", "案情简介及启动索赔理由"),
    "termination_reason": ("text", "终止理由"),
    "officer_name": ("text", "经办人"),
    "registered_on": ("date", "经办人签署日期"),
    "division": ("approval", "机构负责人意见"),
    "department": ("approval", "部门负责人意见"),
    "remarks": ("text", "备注"),
    # form 2
    "claim_started_on": ("date", "索赔启动时间"),
    "approving_authority": ("text", "批准启动索赔的机关"),
    "investigators": ("names", "调查人员"),
    "investigation_methods": ("text_list", "调查方式"),
    "investigation_started_on": ("date", "调查开始时间"),
    "investigation_ended_on": ("date", "调查结束时间"),
    "investigation_scope": ("text", "调查范围"),
    "damage_facts": ("text", "生态环境损害事实"),
    "assessment_summary": ("text", "鉴定评估情况"),
    "evidence": ("text_list", "证据材料"),
    "legal_basis": ("text", "法律依据"),
    "handling_suggestion": ("text", "调查部门的处理建议"),
    "concluded_on": ("date", "调查结论日期"),
    # form 4
    "investigation_summary": ("text", "调查结论"),
    "restorable_area_requirements": ("text", "可以修复的区域范围和要求"),
    "team_claimant": ("names", "磋商小组（赔偿权利人方）人员"),
    "invited_units": ("names", "受邀参与磋商的单位或部门"),
    "meeting_time": ("datetime", "磋商会议时间"),
    "meeting_place": ("text", "磋商会议地点"),
    "other_matters": ("text", "其他事项"),
    "reply_due_on": ("date", "答复期限"),
    "notice_date": ("date", "告知书日期"),
    # form 5
    "signed_on": ("date", "签订时间"),
    "signing_place": ("text", "签订地点"),
    "facts": ("text", "事实情况"),
    "evidence_summary": ("text", "相关证据"),
    "liability": ("text", "生态环境损害责任认定"),
    "obligations": ("obligations", "责任承担、履行方式和期限"),
    "compensation_amount": ("decimal", "赔偿金额合计"),
    "cost_bearing": ("text", "费用负担"),
    "other_terms": ("text", "其他约定"),
    # form 6
    "agreement_signed_on": ("date", "赔偿协议签订日期"),
    "agreement_name": ("text", "赔偿协议名称"),
    "agreement_summary": ("text", "赔偿协议内容"),
    "local_rules": ("text", "地方实施方案、办法"),
    "court": ("text", "人民法院"),
    "applied_on": ("date", "申请日期"),
    # form 7
    "case_name": ("text", "案件名称"),
    "facts_found": ("text", "查明的事实"),
    "notice_served_on": ("date", "通知磋商日期"),
    "meetings_from": ("date", "磋商起始日期"),
    "meetings_to": ("date", "磋商结束日期"),
    "meeting_count": ("int", "磋商次数"),
    "confirmation_applied_on": ("date", "申请司法确认日期"),
    "confirmation_number": ("text", "司法确认文书号"),
    "defaulting_obligors": ("names", "未履行的赔偿义务人"),
}

_COMMON = {"number", "claimant", "obligors"}
_REGISTRATION = {
    "lead_source_label", "cause", "officer_name", "registered_on", "division", "department", "remarks",
}
CONTRACT: dict[int, set[str]] = {
    1: _COMMON | _REGISTRATION | {"case_summary"},
    2: _COMMON | {
        "lead_source_label", "claim_started_on", "approving_authority", "investigators",
        "investigation_methods", "investigation_started_on", "investigation_ended_on",
        "investigation_scope", "damage_facts", "assessment_summary", "evidence", "legal_basis",
        "handling_suggestion", "officer_name", "concluded_on",
    },
    3: _COMMON | _REGISTRATION | {"termination_reason"},
    4: _COMMON | {
        "cause", "investigation_summary", "assessment_summary", "restorable_area_requirements",
        "team_claimant", "invited_units", "meeting_time", "meeting_place", "other_matters",
        "reply_due_on", "notice_date",
    },
    5: _COMMON | {
        "signed_on", "signing_place", "facts", "evidence_summary", "legal_basis", "liability",
        "obligations", "compensation_amount", "cost_bearing", "other_terms",
    },
    6: _COMMON | {
        "agreement_signed_on", "agreement_name", "agreement_summary", "local_rules", "court",
        "applied_on",
    },
    7: _COMMON | {
        "case_name", "investigation_started_on", "facts_found", "notice_served_on", "meetings_from",
        "meetings_to", "meeting_count", "agreement_name", "confirmation_applied_on", "court",
        "confirmation_number", "defaulting_obligors", "applied_on",
    },
}

# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------

_PATH_PART = re.compile(r"^(?P<key>\w+)(?:\[(?P<index>\d+)\])?(?:\.(?P<sub>\w+))?$")


def describe_field(path: str) -> str:
    """Chinese label for a contract path: "obligors[1].work_unit" → "第2个赔偿义务人的工作单位或职业"."""
    m = _PATH_PART.match(path)
    if m is None or m["key"] not in FIELDS:
        return path
    kind, label = FIELDS[m["key"]]
    if m["index"] is not None:
        noun = "项" if kind == "obligations" else "个"
        label = f"第{int(m['index']) + 1}{noun}{label}"
    if m["sub"] is not None:
        sub_label = _NESTED.get(kind, {}).get(m["sub"], m["sub"])
        label = f"{label}的{sub_label}"
    return label


class MissingDocumentData(ValueError):
    """The context lacks data the template needs; ``missing`` lists contract paths such as "cause",
    "claimant.uscc" or "obligors[1].work_unit"."""

    def __init__(self, form: int, missing: list[str]) -> None:
        self.form = form
        self.missing = list(missing)
        title = FORMS[form].title if form in FORMS else f"文书{form}"
        names = "；".join(f"{describe_field(p)}（{p}）" for p in self.missing)
        super().__init__(f"无法生成《{title}》，缺少以下数据：{names}")


class InvalidDocumentData(ValueError):
    """The context holds a value of the wrong type or form (e.g. an unknown obligor kind)."""

    def __init__(self, form: int, problems: list[str]) -> None:
        self.form = form
        self.problems = list(problems)
        title = FORMS[form].title if form in FORMS else f"文书{form}"
        super().__init__(f"无法生成《{title}》，数据有误：" + "；".join(self.problems))


# --------------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# characters XML 1.0 forbids; \a and \f would also be read by docxtpl as paragraph/page breaks
_BAD_XML_CHARS = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\ufffe\uffff]")


def to_date(value: object) -> dt.date:
    if value is None:
        raise ValueError("日期为空，不能填写“年 月 日”")
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value.strip()):
        raise ValueError(f"无法识别的日期：{value!r}（应为 datetime.date 或 YYYY-MM-DD）")
    return as_date(value)


def cn_date(value: object) -> str:
    """datetime.date or "YYYY-MM-DD" → "2026年11月28日"; None raises ValueError."""
    d = to_date(value)
    return f"{d.year}年{d.month}月{d.day}日"


def cn_datetime(value: object) -> str:
    """datetime → "2026年9月22日9时30分" (":00" → "9时"); a date → cn_date; a str is kept as written."""
    if isinstance(value, dt.datetime):
        minutes = f"{value.minute}分" if value.minute else ""
        return f"{cn_date(value)}{value.hour}时{minutes}"
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value.strip()):
        if not value.strip():
            raise ValueError("时间为空")
        return value
    return cn_date(value)


def money(value: Decimal | str | int) -> str:
    """Decimal("12345.6") → "12,345.60"."""
    return amounts.money(value)


def rmb_upper(value: Decimal | str | int) -> str:
    """Decimal("1005.50") → "人民币壹仟零伍元伍角整"."""
    return amounts.rmb_upper(value)


def _clean(text: str) -> str:
    return _BAD_XML_CHARS.sub("", text)


def paras(value: object) -> Markup:
    """Multi-line text → one Word paragraph per non-empty line (same paragraph style)."""
    if value is None:
        return Markup("")
    lines = [line.strip() for line in _clean(str(value)).replace("\r\n", "\n").split("\n")]
    return Markup("\a").join(escape(line) for line in lines if line)


def names(value: object) -> str:
    """A list of names → "甲、乙"; a str is returned as it is; None → ""."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable):
        return "、".join(str(v) for v in value if v not in (None, ""))
    return str(value)


def clause(value: object) -> str:
    """Text to be followed by the template's own "。": drops trailing 。；，. and whitespace."""
    if value is None:
        return ""
    return str(value).strip().rstrip("。；;，,. \n")


def _finalize(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and not isinstance(value, Markup):
        return _clean(value)
    return value


FILTERS: dict[str, Callable[..., Any]] = {
    "cn_date": cn_date,
    "cn_datetime": cn_datetime,
    "money": money,
    "rmb_upper": rmb_upper,
    "paras": paras,
    "names": names,
    "clause": clause,
}


def make_environment() -> Environment:
    """The Jinja environment every template is rendered with: autoescaped (so & and < survive in XML),
    StrictUndefined (a typo fails instead of leaving a blank), None rendered as ""."""
    env = Environment(autoescape=True, undefined=StrictUndefined, finalize=_finalize)
    env.filters.update(FILTERS)
    return env


_ENV = make_environment()

# --------------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------------


def template_path(form: int, template_dir: Path | None = None) -> Path:
    if form not in FORMS:
        raise ValueError(f"没有第{form}号文书（应为 1–7）")
    return (template_dir or TEMPLATE_DIR) / FORMS[form].filename


def _undeclared(path: Path) -> set[str]:
    found: set[str] = DocxTemplate(str(path)).get_undeclared_template_variables(jinja_env=_ENV)
    return set(found)


def template_variables(form: int, template_dir: Path | None = None) -> set[str]:
    """The top-level context keys the form's template uses (docxtpl's undeclared variables)."""
    return _undeclared(template_path(form, template_dir))


def _template_source(path: Path) -> str:
    """The Jinja source docxtpl derives from a .docx (body, headers and footers)."""
    tpl = DocxTemplate(str(path))
    doc = Document(str(path))
    source: str = tpl.patch_xml(tpl.xml_to_string(doc.element.body))
    for rel in doc.part.rels.values():
        if rel.reltype in (DocxTemplate.HEADER_URI, DocxTemplate.FOOTER_URI) and rel.target_part.blob:
            source += tpl.patch_xml(tpl.xml_to_string(parse_xml(rel.target_part.blob)))
    return source


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------


def _is_date(value: object) -> bool:
    return isinstance(value, dt.date) or (isinstance(value, str) and bool(_ISO_DATE.fullmatch(value)))


def _is_names(value: object) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
    )


def _amount_problem(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, Decimal | str | int):
        return f"应为金额（Decimal），而不是 {type(value).__name__}"
    try:
        amounts.to_cents(value)
    except ValueError as exc:
        return str(exc)
    return None


def _check_date(path: str, value: object, missing: list[str], wrong: list[str]) -> None:
    if value is None:
        missing.append(path)
    elif not _is_date(value):
        wrong.append(f"{describe_field(path)}（{path}）应为日期，而不是 {value!r}")
    else:
        try:
            to_date(value)
        except ValueError:
            wrong.append(f"{describe_field(path)}（{path}）不是有效日期：{value!r}")


def _check_record(path: str, value: object, fields: Mapping[str, str], missing: list[str],
                  wrong: list[str]) -> Mapping[str, object] | None:
    if value is None:
        missing.append(path)
        return None
    if not isinstance(value, Mapping):
        wrong.append(f"{describe_field(path)}（{path}）应为字典（dict）")
        return None
    missing.extend(f"{path}.{k}" for k in fields if k not in value)
    return value


def _check_field(key: str, value: object, missing: list[str], wrong: list[str]) -> None:
    kind, label = FIELDS[key]
    if kind == "text":
        if value is not None and not isinstance(value, str | int | Decimal):
            wrong.append(f"{label}（{key}）应为文字")
    elif kind == "names":
        if value is not None and not _is_names(value):
            wrong.append(f"{label}（{key}）应为文字或文字列表")
    elif kind == "text_list":
        if value is None or (isinstance(value, list | tuple) and not value):
            missing.append(key)  # an empty list would leave the blank empty
        elif not (isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)):
            wrong.append(f"{label}（{key}）应为文字列表")
    elif kind == "date":
        _check_date(key, value, missing, wrong)
    elif kind == "datetime":
        if value is None:
            missing.append(key)
        elif not isinstance(value, dt.date | str):
            wrong.append(f"{label}（{key}）应为时间")
    elif kind == "int":
        if value is None:
            missing.append(key)
        elif isinstance(value, bool) or not isinstance(value, int):
            wrong.append(f"{label}（{key}）应为整数")
    elif kind == "decimal":
        if value is None:
            missing.append(key)
        else:
            problem = _amount_problem(value)
            if problem:
                wrong.append(f"{label}（{key}）：{problem}")
    elif kind == "party":
        _check_record(key, value, PARTY_FIELDS, missing, wrong)
    elif kind == "approval":
        record = _check_record(key, value, APPROVAL_FIELDS, missing, wrong)
        if record is not None and "signed_on" in record:
            _check_date(f"{key}.signed_on", record["signed_on"], missing, wrong)
    elif kind == "obligors":
        _check_obligors(value, missing, wrong)
    elif kind == "obligations":
        _check_obligations(value, missing, wrong)


def _check_obligors(value: object, missing: list[str], wrong: list[str]) -> None:
    if value is None or (isinstance(value, list | tuple) and not value):
        missing.append("obligors")
        return
    if not isinstance(value, list | tuple):
        wrong.append("赔偿义务人（obligors）应为列表")
        return
    for i, item in enumerate(value):
        record = _check_record(f"obligors[{i}]", item, OBLIGOR_FIELDS, missing, wrong)
        if record is not None and "kind" in record and record["kind"] not in OBLIGOR_KINDS:
            wrong.append(f"第{i + 1}个赔偿义务人的类型应为 company 或 person，而不是 {record['kind']!r}")


def _check_obligations(value: object, missing: list[str], wrong: list[str]) -> None:
    if value is None:
        missing.append("obligations")
        return
    if not isinstance(value, list | tuple):
        wrong.append("责任承担（obligations）应为列表")
        return
    for i, item in enumerate(value):
        path = f"obligations[{i}]"
        record = _check_record(path, item, OBLIGATION_FIELDS, missing, wrong)
        if record is None:
            continue
        if record.get("due_on") is not None:
            _check_date(f"{path}.due_on", record["due_on"], missing, wrong)
        if record.get("amount") is not None:
            problem = _amount_problem(record["amount"])
            if problem:
                wrong.append(f"第{i + 1}项责任的金额：{problem}")
        if "obligor_names" in record and record["obligor_names"] is not None \
                and not _is_names(record["obligor_names"]):
            wrong.append(f"第{i + 1}项责任的赔偿义务人应为文字或文字列表")


def validate_context(form: int, context: Mapping[str, Any], used: Iterable[str]) -> None:
    """Raise MissingDocumentData / InvalidDocumentData unless ``context`` fills every key in ``used``."""
    missing: list[str] = []
    wrong: list[str] = []
    for key in sorted(used):
        if key not in context:
            missing.append(key)
        elif key in FIELDS:
            _check_field(key, context[key], missing, wrong)
    if missing:
        raise MissingDocumentData(form, missing)
    if wrong:
        raise InvalidDocumentData(form, wrong)


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------

_UNDEFINED_NAME = re.compile(r"'([^']+)' (?:is undefined|has no attribute '([^']+)')")


def _render_file(path: Path, form: int, context: Mapping[str, Any]) -> bytes:
    tpl = DocxTemplate(str(path))
    try:
        tpl.render(dict(context), jinja_env=_ENV)
    except UndefinedError as exc:  # a nested key the validation does not know about
        m = _UNDEFINED_NAME.search(str(exc))
        name = (m.group(2) or m.group(1)) if m else str(exc)
        raise MissingDocumentData(form, [name]) from exc
    out = BytesIO()
    tpl.save(out)
    return out.getvalue()


def render(form: int, context: dict[str, Any], template_dir: Path | None = None) -> bytes:
    """Render form ``form`` (1–7) with ``context``; returns the .docx file as bytes.

    Raises MissingDocumentData when the template uses a key (or sub-field) the context lacks, and
    InvalidDocumentData when a value has the wrong type.
    """
    path = template_path(form, template_dir)
    validate_context(form, context, _undeclared(path))
    return _render_file(path, form, context)


# --------------------------------------------------------------------------------------------------
# Checking an uploaded template
# --------------------------------------------------------------------------------------------------

_LIST_FILTERS_KEEPING_ITEMS = {"selectattr", "rejectattr", "sort", "reverse", "list", "unique", "batch"}
_ATTRIBUTE_FILTERS = {"map", "selectattr", "rejectattr", "sum", "sort", "groupby", "unique", "min", "max"}


def _nested_fields(key: str) -> dict[str, str] | None:
    if key not in FIELDS:
        return None
    return _NESTED.get(FIELDS[key][0])


def _list_source(expr: nodes.Node) -> str | None:
    """Name of the contract list an expression iterates over (through selectattr, sort, …)."""
    while isinstance(expr, nodes.Filter) and expr.name in _LIST_FILTERS_KEEPING_ITEMS and expr.node:
        expr = expr.node
    if isinstance(expr, nodes.Name) and FIELDS.get(expr.name, ("text", ""))[0] in ("obligors", "obligations"):
        return expr.name
    return None


def _attribute_problems(ast: nodes.Template) -> list[str]:
    scope: dict[str, dict[str, str]] = {
        k: f for k in FIELDS if (f := _nested_fields(k)) is not None and FIELDS[k][0] in ("party", "approval")
    }
    for loop in ast.find_all(nodes.For):
        source = _list_source(loop.iter)
        if source is not None and isinstance(loop.target, nodes.Name):
            scope[loop.target.name] = _NESTED[FIELDS[source][0]]
    problems: set[str] = set()

    def check(owner: str, attr: str, fields: Mapping[str, str]) -> None:
        if attr not in fields:
            problems.add(f"“{owner}”没有字段“{attr}”（可用：{', '.join(fields)}）")

    for getattr_node in ast.find_all(nodes.Getattr):
        owner = getattr_node.node
        if isinstance(owner, nodes.Name) and owner.name in scope:
            check(owner.name, getattr_node.attr, scope[owner.name])
    for getitem_node in ast.find_all(nodes.Getitem):
        owner, arg = getitem_node.node, getitem_node.arg
        if isinstance(owner, nodes.Name) and owner.name in scope and isinstance(arg, nodes.Const) \
                and isinstance(arg.value, str):
            check(owner.name, arg.value, scope[owner.name])
    for flt in ast.find_all(nodes.Filter):
        if flt.name not in _ATTRIBUTE_FILTERS or flt.node is None:
            continue
        source = _list_source(flt.node)
        if source is None:
            continue
        attrs = [kw.value.value for kw in flt.kwargs
                 if kw.key == "attribute" and isinstance(kw.value, nodes.Const)]
        if flt.name in ("selectattr", "rejectattr") and flt.args and isinstance(flt.args[0], nodes.Const):
            attrs.append(flt.args[0].value)
        for attr in attrs:
            if isinstance(attr, str):
                check(source, attr, _NESTED[FIELDS[source][0]])
    return sorted(problems)


def sample_context(form: int) -> dict[str, Any]:
    """A complete context with placeholder values (one company and one person obligor), used to try
    a template out. Not realistic data: see tests/fixtures/document_contexts.py for that."""
    day = dt.date(2026, 1, 2)
    values: dict[FieldKind, Any] = {
        "text": "示例",
        "names": ["示例甲", "示例乙"],
        "text_list": ["示例一", "示例二"],
        "date": day,
        "datetime": dt.datetime(2026, 1, 2, 9, 30),
        "int": 2,
        "decimal": Decimal("1005.50"),
        "party": dict.fromkeys(PARTY_FIELDS, "示例"),
        "approval": {"opinion": "同意", "signer": "示例", "signed_on": day},
        "obligors": [
            {**dict.fromkeys(OBLIGOR_FIELDS, "示例"), "kind": "company", "id_number": None,
             "work_unit": None},
            {**dict.fromkeys(OBLIGOR_FIELDS, "示例"), "kind": "person", "uscc": None,
             "legal_representative": None, "position": None},
        ],
        "obligations": [
            {"kind_label": "示例", "obligor_names": ["示例"], "description": "示例",
             "amount": Decimal("10.00"), "due_on": day},
            {"kind_label": "示例", "obligor_names": "示例", "description": "示例", "amount": None,
             "due_on": None},
        ],
    }
    return {key: values[FIELDS[key][0]] for key in CONTRACT[form]}


def check_template(path: Path, form: int) -> list[str]:
    """Problems with a (replacement) template for form ``form``; an empty list means it can be used.

    Reports an unreadable file, Jinja syntax errors, unknown filters, variables outside the form's
    contract, unknown sub-fields (e.g. ``o.nmae``) and errors when rendering placeholder data.
    """
    if form not in FORMS:
        return [f"没有第{form}号文书（应为 1–7）"]
    try:
        source = _template_source(Path(path))
    except Exception as exc:  # any unreadable upload is a problem to report, not a crash
        return [f"无法读取模板文件（应为 .docx）：{exc}"]
    try:
        variables = _undeclared(Path(path))
        ast = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        return [f"模板语法错误：{exc.message}"]
    problems: list[str] = []
    unknown = sorted(variables - CONTRACT[form])
    if unknown:
        problems.append(
            f"模板使用了《{FORMS[form].title}》数据约定以外的变量：{'、'.join(unknown)}"
        )
    try:
        _ENV.compile(ast)
    except TemplateError as exc:
        problems.append(f"模板错误：{exc.message}")
        return problems
    problems.extend(_attribute_problems(ast))
    if problems:
        return problems
    try:
        _render_file(Path(path), form, sample_context(form))
    except (TemplateError, MissingDocumentData, ValueError, TypeError) as exc:
        problems.append(f"用示例数据试生成失败：{exc}")
    return problems
