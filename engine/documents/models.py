"""Tables of the documents package: the PDF made from a stored document (cached; a document never changes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, UTCDateTime


class DocumentPdf(Base):
    """The PDF of one stored .docx version, converted on the first request (engine/documents/service.py).

    A document version is never overwritten (regenerating makes version n+1), so its PDF stays valid."""

    __tablename__ = "document_pdfs"
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
