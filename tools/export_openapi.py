"""Write the API's OpenAPI document to docs/openapi.json and its endpoint table into docs/api.md (run after
changing an endpoint; a test compares both with what the service serves).

    .venv/bin/python tools/export_openapi.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.services.startup import start  # noqa: E402
from engine.store.runtime import Config, Runtime  # noqa: E402
from web import create_app  # noqa: E402

TARGET = ROOT / "docs" / "openapi.json"
API_DOC = ROOT / "docs" / "api.md"
START, END = "<!-- endpoints:start (written by tools/export_openapi.py) -->", "<!-- endpoints:end -->"


def document() -> str:
    """The OpenAPI document the service serves at /api/v1/openapi.json, as stable JSON text."""
    with tempfile.TemporaryDirectory() as folder:
        runtime = Runtime(Config(database_url=f"sqlite:///{folder}/openapi.sqlite", demo=True))
        start(runtime)
        try:
            served = create_app(runtime).test_client().get("/api/v1/openapi.json").get_json()
        finally:
            runtime.close()
    return json.dumps(served, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def api_doc(openapi_text: str) -> str:
    """docs/api.md with its endpoint table made from the OpenAPI document."""
    paths = json.loads(openapi_text)["paths"]
    rows = ["| method | path | what |", "|---|---|---|"]
    for path in sorted(paths):
        for method, operation in sorted(paths[path].items()):
            rows.append(f"| {method.upper()} | `{path}` | {operation.get('summary', '')} |")
    text = API_DOC.read_text(encoding="utf-8")
    before, _, rest = text.partition(START)
    _, _, after = rest.partition(END)
    return before + START + "\n" + "\n".join(rows) + "\n" + END + after


if __name__ == "__main__":
    served = document()
    TARGET.write_text(served, encoding="utf-8")
    API_DOC.write_text(api_doc(served), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)} and {API_DOC.relative_to(ROOT)}")
