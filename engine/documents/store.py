"""Generate a form at a service task and keep it with the case: never overwritten, version n+1 each time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from .. import audit, clock
from ..models import Document
from ..workflow import OperatorError
from .context import build
from .render import FORMS, InvalidDocumentData, MissingDocumentData, render


def generate(run: Any, form: int, task: Any) -> Document:
    case = run.case
    if case is None:
        raise OperatorError("文书只能为案件生成")
    if form not in FORMS:
        raise OperatorError(f"未知的文书编号：{form}")
    context = build(run.session, case, form, dict(task.data))
    try:
        content = render(form, context, run.engine.config.templates_dir)
    except (MissingDocumentData, InvalidDocumentData) as exc:
        raise OperatorError(str(exc)) from exc
    group = task.data.get("group", {}).get("id") if isinstance(task.data.get("group"), dict) else None
    last = run.session.execute(select(func.max(Document.version)).where(
        Document.case_id == case.id, Document.form == form, Document.group_no == group)).scalar()
    version = int(last or 0) + 1
    info = FORMS[form]
    number = case.number or f"线索{case.id}"
    suffix = f"-第{group}组" if group is not None and group > 1 else ""
    doc = Document(case_id=case.id, form=form, group_no=group, title=info.title, version=version,
                   filename=f"{number}-{info.title}{suffix}-v{version}.docx", content=content,
                   created_at=clock.now(), created_by=run.actor.username, task=task.task_spec.name)
    run.session.add(doc)
    run.session.flush()
    audit.record(run.session, who=run.actor.username, event_name="document", case_id=case.id,
                 task=task.task_spec.name, title=f"生成文书：{info.title} 第{version}版",
                 detail={"document_id": doc.id, "form": form, "version": version})
    return doc
