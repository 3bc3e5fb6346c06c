"""docs/openapi.json and the endpoint table of docs/api.md are what the service serves, kept in the repository."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_docs_openapi_json_is_what_the_service_serves() -> None:
    spec = importlib.util.spec_from_file_location("export_openapi", ROOT / "tools" / "export_openapi.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    served = module.document()
    assert (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8") == served, \
        "the API changed: run .venv/bin/python tools/export_openapi.py"
    assert (ROOT / "docs" / "api.md").read_text(encoding="utf-8") == module.api_doc(served), \
        "docs/api.md's endpoint table is stale: run .venv/bin/python tools/export_openapi.py"
