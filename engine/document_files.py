"""Downloading a generated document: access like its case; other formats through ``engine.documents.service``."""

from __future__ import annotations

import importlib
import re
from typing import Any

from . import access
from .errors import NotFound, ValidationFailed
from .models import Document
from .runtime import Actor, Engine

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def safe_filename(name: str, fallback: str = "document.docx") -> str:
    """A file name without separators, control characters or leading dots (it cannot climb out of a folder)."""
    cleaned = _UNSAFE.sub("_", name).strip(" .")
    cleaned = cleaned.replace("..", "_")
    return cleaned[:150] or fallback


def pdf_available() -> bool:
    return importlib.util.find_spec("engine.documents.service") is not None


def download(engine: Engine, actor: Actor, document_id: int, fmt: str = "docx") -> tuple[bytes, str, str]:
    """(content, file name, MIME type) of a document the actor may see; an invisible one is "not found"."""
    if fmt not in ("docx", "pdf"):
        raise ValidationFailed("不支持的文件格式", {"format": "可选：docx、pdf"})
    if fmt != "docx":
        if not pdf_available():
            raise ValidationFailed("暂不支持导出 PDF", {"format": "可选：docx"})
        service: Any = importlib.import_module("engine.documents.service")
        content, name, mimetype = service.download(engine, actor, document_id, fmt)
        return bytes(content), safe_filename(str(name), f"document-{document_id}.{fmt}"), str(mimetype)
    with engine.db.transaction() as s:
        doc = s.get(Document, document_id)
        if doc is None:
            raise NotFound("文书不存在")
        access.case_for(s, actor, doc.case_id)
        return bytes(doc.content), safe_filename(doc.filename, f"document-{doc.id}.docx"), DOCX
