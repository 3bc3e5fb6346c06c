"""Generate a form for a case and keep it: never overwritten, version n+1 each time.

Raises ``MissingDocumentData`` / ``InvalidDocumentData`` (``render.py``) when the case lacks what the template
needs; the caller (the ``render_document`` operator, the regenerate use case) decides what that means."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.common import clock
from engine.common.contract import group_of
from engine.documents.context import build
from engine.documents.render import FORMS, InvalidDocumentData, render
from engine.store import audit
from engine.store.models import Case, Document


def generate(session: Session, templates_dir: Path, case: Case, form: int, data: dict[str, Any], task: str,
             who: str) -> Document:
    """Render form ``form`` from the case's records and the process ``data`` of task ``task``; store and audit it."""
    if form not in FORMS:
        raise InvalidDocumentData(form, [f"未知的文书编号：{form}"])
    context = build(session, case, form, data)
    content = render(form, context, templates_dir)
    group = group_of(data)
    last = session.execute(select(func.max(Document.version)).where(
        Document.case_id == case.id, Document.form == form, Document.group_no == group)).scalar()
    version = int(last or 0) + 1
    info = FORMS[form]
    number = case.number or f"线索{case.id}"
    suffix = f"-第{group}组" if group is not None and group > 1 else ""
    doc = Document(case_id=case.id, form=form, group_no=group, title=info.title, version=version,
                   filename=f"{number}-{info.title}{suffix}-v{version}.docx", content=content,
                   created_at=clock.now(), created_by=who, task=task)
    session.add(doc)
    session.flush()
    audit.record(session, who=who, event_name="document", case_id=case.id, task=task,
                 title=f"生成文书：{info.title} 第{version}版",
                 detail={"document_id": doc.id, "form": form, "version": version})
    return doc
