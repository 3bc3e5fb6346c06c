"""engine.services.documents: listing and downloading a case's documents (.docx, PDF on demand and cached) with the
case's access rules, and the clear refusal when no PDF can be made here."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from engine.auth.users import get_actor
from engine.common.errors import DomainError, NotFound, ValidationFailed
from engine.documents import pdf
from engine.documents.pdf import Unavailable
from engine.services import documents as service

from .driver import Case

IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture
def started(runtime) -> tuple[Case, int]:
    """A case whose form 1 (索赔启动登记表) exists; returns the case and the document id."""
    case = Case(runtime)
    case.start_claim()
    (doc,) = service.list_for_case(runtime, case.officer, case.id)
    return case, doc["id"]


def fake_soffice(folder: Path, script: str, monkeypatch: pytest.MonkeyPatch) -> None:
    folder.mkdir()
    exe = folder / "soffice"
    exe.write_text("#!/bin/sh\n" + script + "\n", encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(folder))


def test_download_docx_with_chinese_name(runtime, started: tuple[Case, int]) -> None:
    case, doc_id = started
    content, name, mimetype = service.download(runtime, case.officer, doc_id)
    assert content.startswith(b"PK") and mimetype == service.DOCX_MIME
    assert name == "环赔〔2026〕1号-索赔启动登记表-v1.docx"
    assert service.download(runtime, get_actor(runtime, "supervisor1"), doc_id, "DOCX")[1] == name


def test_invisible_or_unknown_documents_are_not_found(runtime, started: tuple[Case, int]) -> None:
    case, doc_id = started
    with pytest.raises(NotFound, match="文书不存在"):
        service.download(runtime, get_actor(runtime, "officer2"), doc_id)  # another department
    with pytest.raises(NotFound, match="文书不存在"):
        service.download(runtime, get_actor(runtime, "officer2"), doc_id, "pdf")
    with pytest.raises(NotFound, match="文书不存在"):
        service.download(runtime, case.officer, doc_id + 1000)
    with pytest.raises(NotFound):
        service.list_for_case(runtime, get_actor(runtime, "officer2"), case.id)
    with pytest.raises(ValidationFailed, match="不支持的文书格式"):
        service.download(runtime, case.officer, doc_id, "odt")


def test_pdf_unavailable_without_libreoffice(runtime, started: tuple[Case, int], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    case, doc_id = started
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice anywhere
    with pytest.raises(Unavailable) as refused:
        service.download(runtime, case.officer, doc_id, "pdf")
    assert isinstance(refused.value, DomainError) and refused.value.code == "pdf_unavailable"
    assert "未安装 LibreOffice" in refused.value.message and ".docx" in refused.value.message
    assert service.list_for_case(runtime, case.officer, case.id)[0]["pdf_ready"] is False
    assert service.download(runtime, case.officer, doc_id)[0].startswith(b"PK")  # the .docx still comes


def test_failed_conversion_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_soffice(tmp_path / "bin", 'echo "Error: source file could not be loaded" >&2; exit 1', monkeypatch)
    with pytest.raises(Unavailable, match="PDF 转换失败（LibreOffice 退出码 1）：Error: source file could not be loaded"):
        pdf.docx_to_pdf(b"PK")


def test_silent_failure_without_output_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_soffice(tmp_path / "bin", "exit 0", monkeypatch)  # what two soffice sharing a profile do
    with pytest.raises(Unavailable, match="未生成 PDF 文件"):
        pdf.docx_to_pdf(b"PK")


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status  # a zombie is dead, waiting to be reaped


def test_hanging_conversion_is_killed_with_its_children(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pidfile = tmp_path / "child.pid"
    fake_soffice(tmp_path / "bin", f"/bin/sleep 60 & echo $! > {pidfile}; wait", monkeypatch)
    monkeypatch.setattr(pdf, "TIMEOUT", 1.0)
    started = time.monotonic()
    with pytest.raises(Unavailable, match="超时"):
        pdf.docx_to_pdf(b"PK")
    assert time.monotonic() - started < 10
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the converter's child process outlived the timeout"


@pytest.mark.skipif(pdf.soffice() is None and not IN_CI, reason="LibreOffice not installed (tools/system-packages.sh)")
def test_pdf_is_converted_once_and_then_cached(runtime, started: tuple[Case, int],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    case, doc_id = started
    content, name, mimetype = service.download(runtime, case.officer, doc_id, "pdf")
    assert content.startswith(b"%PDF") and mimetype == "application/pdf"
    assert name == "环赔〔2026〕1号-索赔启动登记表-v1.pdf"
    assert service.list_for_case(runtime, case.officer, case.id)[0]["pdf_ready"] is True

    def no_conversion(_content: bytes, **_kw: object) -> bytes:
        raise AssertionError("converted again")

    monkeypatch.setattr(pdf, "docx_to_pdf", no_conversion)
    assert service.download(runtime, get_actor(runtime, "supervisor1"), doc_id, "pdf") == (content, name, mimetype)
