"""Use cases on a case's documents: list them, download one (.docx or PDF), regenerate a form.

Access follows the case (``engine.access``): a document of a case the actor cannot see is "not found", like
the case. A PDF is converted on the first request (``engine.documents.pdf``, outside any transaction) and
kept in ``document_pdfs``; the stored .docx versions are never changed.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.auth.access import case_for
from engine.common import clock
from engine.common.actor import Actor
from engine.common.contract import group_of
from engine.common.errors import BadRequest, Conflict, Forbidden, NotFound, ValidationFailed
from engine.documents import pdf
from engine.documents.pdf import Unavailable
from engine.documents.render import FORMS, InvalidDocumentData, MissingDocumentData, describe_field
from engine.documents.store import generate
from engine.process.instances import open_run
from engine.process.workflow import completed_operator_tasks
from engine.services.cases import instance_of
from engine.store.models import Document, DocumentPdf
from engine.store.runtime import Runtime

__all__ = ["DOCX_MIME", "PDF_MIME", "Unavailable", "download", "download_name", "list_for_case", "regenerate"]

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_MIME = "application/pdf"
MIMETYPES = {"docx": DOCX_MIME, "pdf": PDF_MIME}
#: who may regenerate a form of a case they can see
REGENERATE_ROLES = ("officer", "division_head", "department_head", "admin")

_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')

# --------------------------------------------------------------------------------------------------
# Listing and downloading
# --------------------------------------------------------------------------------------------------


def _visible_document(session: Session, actor: Actor, document_id: int) -> Document:
    doc = session.get(Document, document_id)
    if doc is None:
        raise NotFound("文书不存在")
    try:
        case_for(session, actor, doc.case_id)
    except NotFound:
        raise NotFound("文书不存在") from None
    return doc


def download_name(doc: Document, fmt: str = "docx") -> str:
    """``<编号>-<表名>-v<n>.docx`` (or ``.pdf``) — the name the document was stored with."""
    stem = doc.filename.removesuffix(".docx")
    return _UNSAFE_NAME.sub("-", f"{stem}.{fmt}")


def _summary(doc: Document, has_pdf: bool, latest: bool) -> dict[str, Any]:
    return {"id": doc.id, "form": doc.form, "title": doc.title, "version": doc.version, "group": doc.group_no,
            "filename": download_name(doc), "created_at": doc.created_at.isoformat(), "created_by": doc.created_by,
            "task": doc.task, "size": len(doc.content), "pdf_ready": has_pdf, "latest": latest}


def list_for_case(runtime: Runtime, actor: Actor, case_id: int) -> list[dict[str, Any]]:
    """Every stored version of the case's documents, by form, group and version; ``latest`` marks the newest
    version of each form (per obligor group) and ``pdf_ready`` a version whose PDF is already cached."""
    with runtime.db.transaction() as s:
        case_for(s, actor, case_id)
        docs = list(s.execute(select(Document).where(Document.case_id == case_id)
                              .order_by(Document.form, Document.group_no, Document.version)).scalars())
        cached = set(s.execute(select(DocumentPdf.document_id).where(
            DocumentPdf.document_id.in_([d.id for d in docs]))).scalars()) if docs else set()
    newest: dict[tuple[int, int | None], int] = {}
    for d in docs:
        newest[(d.form, d.group_no)] = max(d.version, newest.get((d.form, d.group_no), 0))
    return [_summary(d, d.id in cached, d.version == newest[(d.form, d.group_no)]) for d in docs]


def download(runtime: Runtime, actor: Actor, document_id: int, fmt: str = "docx") -> tuple[bytes, str, str]:
    """The document's content, its Chinese file name and mimetype; ``fmt`` is "docx" or "pdf".

    NotFound for an unknown document or one of a case the actor cannot see; ValidationFailed (422, naming ``format``) for another format;
    ``Unavailable`` (code "pdf_unavailable") when no PDF can be made here."""
    fmt = (fmt or "docx").lower().lstrip(".")
    if fmt not in MIMETYPES:
        raise ValidationFailed(f"不支持的文书格式：{fmt}（可选 docx 或 pdf）", {"format": "应为 docx 或 pdf"})
    with runtime.db.transaction() as s:
        doc = _visible_document(s, actor, document_id)
        name, content = download_name(doc, fmt), doc.content
        if fmt == "docx":
            return content, name, DOCX_MIME
        cached = s.get(DocumentPdf, document_id)
        if cached is not None:
            return cached.content, name, PDF_MIME
    converted = pdf.docx_to_pdf(content)  # slow (seconds): never inside a transaction
    try:
        with runtime.db.transaction() as s:
            if s.get(DocumentPdf, document_id) is None:
                s.add(DocumentPdf(document_id=document_id, content=converted, created_at=clock.now()))
    except IntegrityError:
        pass  # converted at the same time by another request: its copy is as good as ours
    return converted, name, PDF_MIME


# --------------------------------------------------------------------------------------------------
# Regenerating a form
# --------------------------------------------------------------------------------------------------


def regenerate(runtime: Runtime, actor: Actor, case_id: int, form: int, group: int | None = None) -> dict[str, Any]:
    """Render form ``form`` of the case again (current template, current case records, the process data of the
    service task that first generated it) as version n+1; earlier versions stay. For forms 4–7 of a case with
    several obligor groups, ``group`` says which group's document.

    Conflict when the form was never generated for the case; ValidationFailed (``fields`` = the missing
    contract paths) when the case lacks data the template needs."""
    if form not in FORMS:
        raise BadRequest(f"没有第{form}号文书（应为 1–7）", {"form": "应为 1–7"})
    with runtime.db.transaction() as s:
        case = case_for(s, actor, case_id)
        if not any(actor.has(r) for r in REGENERATE_ROLES):
            raise Forbidden("您没有重新生成文书的权限")
        if not actor.has("admin") and actor.department != case.department_id:
            raise Forbidden("只有牵头部门的人员可以重新生成文书")
        run = open_run(runtime, s, instance_of(s, case_id), actor)
        tasks = completed_operator_tasks(run.wf, "render_document", form=form)
        if group is not None:
            tasks = [t for t in tasks if group_of(t.data) == group]
        elif len({group_of(t.data) for t in tasks}) > 1:
            raise BadRequest(f"该案件有多个赔偿义务人组的《{FORMS[form].title}》，请指明组号", {"group": "请指明组号"})
        if not tasks:
            raise Conflict(f"该案件{'' if group is None else f'第{group}组'}尚未生成《{FORMS[form].title}》，不能重新生成")
        source = tasks[-1]
        try:
            doc = generate(s, runtime.config.templates_dir, case, form, dict(source.data), source.task_spec.name,
                           actor.username)
        except MissingDocumentData as exc:
            raise ValidationFailed(str(exc), {p: f"缺少{describe_field(p)}" for p in exc.missing}) from exc
        except InvalidDocumentData as exc:
            raise ValidationFailed(str(exc)) from exc
        return _summary(doc, False, True)
