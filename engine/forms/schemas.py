"""Task forms: the JSON Schema of each user task (``bpmn/forms/<form>.json``) and server-side validation."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.common.errors import ValidationFailed
from engine.forms.validation import validate_form


@lru_cache(maxsize=256)
def _load(path: str, mtime: float) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return data


def schema(bpmn_dir: Path, form_id: str) -> dict[str, Any]:
    path = Path(bpmn_dir) / "forms" / f"{form_id}.json"
    if not path.is_file() or "/" in form_id or ".." in form_id:
        raise ValidationFailed(f"任务表单 {form_id} 不存在", {"form": form_id})
    return _load(str(path), path.stat().st_mtime)


def check(bpmn_dir: Path, form_id: str, data: Any, context: dict[str, Any]) -> dict[str, Any]:
    """Validate ``data`` against the form; a refusal names every bad field in Chinese and changes nothing."""
    if not isinstance(data, dict):
        raise ValidationFailed("表单数据应为对象", {"data": "应为 JSON 对象"})
    form = schema(bpmn_dir, form_id)
    problems = validate_form(form, data, context)
    if problems:
        first = next(iter(problems.values()))
        raise ValidationFailed(f"表单填写有误：{first}", problems)
    return data
