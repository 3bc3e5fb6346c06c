"""Downloading a generated document (``.docx``, or ``?format=pdf`` converted by LibreOffice)."""

from __future__ import annotations

from flask import Response, request

from engine.services import documents as service

from . import api
from .common import actor, attachment, check_args, runtime


@api.get("/documents/<id:document_id>")
def download_document(document_id: int) -> Response:
    check_args(("format",))
    fmt = request.args.get("format", "docx")
    content, name, mimetype = service.download(runtime(), actor(), document_id, fmt)
    ext = name.rsplit(".", 1)[-1] if "." in name else fmt
    return attachment(content, name, mimetype, f"document-{document_id}.{ext if ext.isalnum() else fmt}")
