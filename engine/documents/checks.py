"""Checking templates against what a case can fill: ``eco-claims templates check`` and the upload of a template.

A template may use the keys of its form's contract (``render.CONTRACT``, see document_templates/CONTEXT.md);
a case fills the keys ``context.PROVIDES`` names. ``check_file`` reports everything that would stop a
template from being used: what ``render.check_template`` finds (unreadable file, Jinja errors, unknown
filters, keys outside the contract, unknown sub-fields, failure on placeholder data) and contract keys the
case data never provides.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from docxtpl import DocxTemplate

from engine.documents.context import PROVIDES
from engine.documents.render import CONTRACT, FIELDS, FORMS, TEMPLATE_DIR, check_template, make_environment


@dataclass
class TemplateReport:
    form: int
    path: Path
    variables: list[str] = field(default_factory=list)  # the top-level keys the template uses
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def title(self) -> str:
        return FORMS[self.form].title if self.form in FORMS else f"文书{self.form}"

    @property
    def unused(self) -> list[str]:
        """Contract keys the template does not print (allowed: a form need not use every key)."""
        return sorted(CONTRACT.get(self.form, set()) - set(self.variables))


def label(key: str) -> str:
    return FIELDS[key][1] if key in FIELDS else "（未知变量）"


def variables_of(path: Path) -> list[str]:
    """The top-level context keys a .docx template uses; [] when it cannot be read."""
    try:
        found = DocxTemplate(str(path)).get_undeclared_template_variables(jinja_env=make_environment())
    except Exception:  # unreadable or broken: check_template names the problem
        return []
    return sorted(found)


def check_file(path: Path, form: int) -> TemplateReport:
    """Everything that stops ``path`` from serving as the template of form ``form``."""
    path = Path(path)
    report = TemplateReport(form, path)
    if form not in FORMS:
        report.problems.append(f"没有第{form}号文书（应为 1–7）")
        return report
    if not path.is_file():
        report.problems.append(f"模板文件不存在：{path}")
        return report
    report.problems.extend(check_template(path, form))
    report.variables = variables_of(path)
    lacking = sorted((set(report.variables) & CONTRACT[form]) - PROVIDES[form])
    if lacking:
        report.problems.append("案件数据不提供模板使用的变量（生成时必然失败）："
                               + "、".join(f"{k}（{label(k)}）" for k in lacking))
    return report


def check_dir(template_dir: Path | None = None) -> list[TemplateReport]:
    """One report per form, for the templates of ``template_dir`` (default: document_templates/)."""
    folder = Path(template_dir or TEMPLATE_DIR)
    return [check_file(folder / info.filename, form) for form, info in sorted(FORMS.items())]


_FORM_FILE = re.compile(r"form([1-7])_")


def form_of_filename(path: Path) -> int | None:
    """The form number of a template file named like the committed ones (``form5_agreement.docx`` → 5)."""
    for form, info in FORMS.items():
        if Path(path).name == info.filename:
            return form
    m = _FORM_FILE.match(Path(path).name)
    return int(m.group(1)) if m else None


def format_report(report: TemplateReport, *, verbose: bool = True) -> list[str]:
    """Lines for a person (the command line): status, the variables used, the problems."""
    status = "通过" if report.ok else f"{len(report.problems)} 个问题"
    lines = [f"第{report.form}号《{report.title}》 {report.path}：{status}"]
    if verbose and report.variables:
        lines.append("  使用的变量：" + "、".join(
            f"{k}（{label(k)}）" + ("" if k in PROVIDES.get(report.form, set()) else "［案件数据不提供］")
            for k in report.variables))
    if verbose and report.unused and report.form in CONTRACT:
        lines.append("  未使用的约定变量：" + "、".join(report.unused))
    lines.extend(f"  ✗ {problem}" for problem in report.problems)
    return lines


def _pad(text: str, width: int) -> str:
    """Left-justify to ``width`` terminal columns (a CJK character takes two)."""
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - shown, 1)


def format_contract(form: int, template_dir: Path | None = None) -> list[str]:
    """The contract of one form as a table: key, kind, label, used by the template, provided by case data."""
    folder = Path(template_dir or TEMPLATE_DIR)
    used = set(variables_of(folder / FORMS[form].filename))
    widths = (30, 14, 10, 10)
    lines = [f"第{form}号《{FORMS[form].title}》（{FORMS[form].filename}）",
             "  " + "".join(_pad(h, w) for h, w in zip(("变量", "类型", "模板使用", "案件提供"), widths, strict=True))
             + "含义"]
    for key in sorted(CONTRACT[form]):
        kind, text = FIELDS[key]
        cells = (key, kind, "是" if key in used else "否", "是" if key in PROVIDES[form] else "否")
        lines.append("  " + "".join(_pad(c, w) for c, w in zip(cells, widths, strict=True)) + text)
    return lines
