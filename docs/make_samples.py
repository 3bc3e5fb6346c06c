"""Render the README's sample pages: form 1 (page 1) and form 5 (page 3) from the realistic contexts of
tests/fixtures/document_contexts.py, through the same LibreOffice conversion the service uses, to PNG.

    .venv/bin/python docs/make_samples.py

Needs tools/system-packages.sh (LibreOffice, poppler-utils, Noto CJK, Liberation Serif, AR PL UKai and the font alias).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.documents.pdf import docx_to_pdf  # noqa: E402
from engine.documents.render import FORMS, render  # noqa: E402
from tests.fixtures.document_contexts import context  # noqa: E402

SAMPLES = ((1, 1), (5, 3))  # (form, page)
DPI = "80"


def main() -> int:
    for form, page in SAMPLES:
        target = ROOT / "docs" / f"form{form}-{FORMS[form].slug}-page{page}.png"
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "form.pdf"
            source.write_bytes(docx_to_pdf(render(form, context(form))))
            subprocess.run(["pdftoppm", "-png", "-r", DPI, "-f", str(page), "-l", str(page), "-singlefile",
                            str(source), str(target.with_suffix(""))], check=True)
        print(f"{target.relative_to(ROOT)}  {target.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
