""".docx → PDF with LibreOffice (``soffice --headless --convert-to pdf``).

Each conversion runs in its own temporary folder with its own LibreOffice profile
(``-env:UserInstallation=file://…``): two ``soffice`` processes sharing a profile fail silently. At most
``MAX_PARALLEL`` conversions run at once; one that takes longer than ``TIMEOUT`` seconds is killed with its
whole process group. Fonts: the templates name 仿宋, 黑体, 楷体, 方正小标宋简体 and Times New Roman;
``tools/system-packages.sh`` installs Noto CJK, AR PL UKai (楷体) and Liberation Serif (metric-compatible with
Times New Roman) and a fontconfig alias file mapping the templates' names to them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from engine.common.errors import DomainError

TIMEOUT = 120.0
MAX_PARALLEL = 2
SOFFICE_NAMES = ("soffice", "libreoffice")
_SLOTS = threading.BoundedSemaphore(MAX_PARALLEL)


class Unavailable(DomainError):
    """A PDF cannot be made here (LibreOffice missing, or the conversion failed or timed out)."""

    code = "pdf_unavailable"


def soffice() -> str | None:
    """The LibreOffice executable on PATH, or None."""
    for name in SOFFICE_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def available() -> bool:
    return soffice() is not None


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    try:
        proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:  # a grandchild still holds the pipes; the process itself is gone
        proc.wait()


def docx_to_pdf(content: bytes, *, timeout: float | None = None) -> bytes:
    """Convert one .docx (bytes) to PDF (bytes); raises Unavailable with a Chinese message."""
    timeout = TIMEOUT if timeout is None else timeout
    exe = soffice()
    if exe is None:
        raise Unavailable("服务器未安装 LibreOffice（soffice），暂时无法提供 PDF，请下载 Word 版（.docx）；"
                          "管理员可以 root 身份运行 tools/system-packages.sh 安装")
    with _SLOTS, tempfile.TemporaryDirectory(prefix="eco-pdf-") as tmp:
        folder = Path(tmp)
        source = folder / "document.docx"
        source.write_bytes(content)
        out = folder / "out"
        command = [exe, "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
                   f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                   "--convert-to", "pdf", "--outdir", str(out), str(source)]
        env = dict(os.environ, HOME=str(folder))  # LibreOffice writes under HOME too
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, cwd=folder, start_new_session=True)
        try:
            _stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise Unavailable(f"PDF 转换超时（超过 {timeout:g} 秒），请稍后重试或下载 Word 版（.docx）") from None
        pdf = out / "document.pdf"
        if proc.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
            detail = stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise Unavailable("PDF 转换失败（LibreOffice 退出码 {}）：{}".format(
                proc.returncode, " ".join(detail) or "未生成 PDF 文件"))
        data = pdf.read_bytes()
    if not data.startswith(b"%PDF"):
        raise Unavailable("PDF 转换失败：LibreOffice 生成的文件不是 PDF")
    return data
