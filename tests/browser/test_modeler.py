"""The diagram editor (流程设计).

Round trip: every file of ``bpmn/`` is opened in the bundled bpmn-js Modeler (web/static/vendor/modeler, with the
spiffworkflow moddle descriptor) in Chromium and saved with ``saveXML``; the engine's parser
(``engine.process.workflow.parse_specs``) must give the same specs for the saved files as for the originals: same
task specs, same spiff properties, same service-task operators and parameters, same pre/post scripts, same
multi-instance settings (the serialized specs are compared whole, minus the file names)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from engine.process.workflow import parse_specs, spec_json

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "web/static/vendor/modeler/modeler.bundle.js"
BPMN = sorted((ROOT / "bpmn").glob("*.bpmn"))
PROCESS_ID = re.compile(r'<bpmn:process id="([^"]+)"')

ROUND_TRIP = """async (files) => {
  const out = {};
  for (const [name, xml] of Object.entries(files)) {
    const box = document.createElement('div');
    box.style.width = '1200px'; box.style.height = '800px';
    document.body.appendChild(box);
    const modeler = window.EcoModeler.create({ container: box });
    const result = await modeler.importXML(xml);
    const saved = await modeler.saveXML({ format: true });
    out[name] = { xml: saved.xml, warnings: result.warnings.map(w => w.message) };
    modeler.destroy();
    box.remove();
  }
  return out;
}"""


def _specs(files: dict[str, str]) -> dict[str, Any]:
    """Every process of ``files``, parsed together (call activities resolve), serialized, file names left out."""
    pairs = sorted(files.items())
    out: dict[str, Any] = {}
    for text in files.values():
        for pid in PROCESS_ID.findall(text):
            spec, subs = parse_specs(pairs, pid)
            out[pid] = _without_files(json.loads(spec_json(spec, subs)))
    return out


def _without_files(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_files(v) for k, v in value.items() if k != "file"}
    if isinstance(value, list):
        return [_without_files(v) for v in value]
    return value


def _differences(before: Any, after: Any, path: str = "") -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[str] = []
        for key in sorted(set(before) | set(after)):
            if key not in after:
                out.append(f"{path}/{key}: lost")
            elif key not in before:
                out.append(f"{path}/{key}: added {after[key]!r}"[:300])
            else:
                out.extend(_differences(before[key], after[key], f"{path}/{key}"))
        return out
    if before != after:
        return [f"{path}: {before!r} → {after!r}"[:300]]
    return []


def test_every_diagram_survives_the_modeler_round_trip(chromium: Any) -> None:
    originals = {p.name: p.read_text(encoding="utf-8") for p in BPMN}
    assert "eco_damage_claim.bpmn" in originals
    page = chromium.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.set_content("<!doctype html><html><head><meta charset='utf-8'></head><body></body></html>")
        page.add_script_tag(path=str(BUNDLE))
        saved = page.evaluate(ROUND_TRIP, originals)
    finally:
        page.close()
    assert errors == []
    for name, result in saved.items():
        assert result["warnings"] == [], f"{name}: the modeler did not understand: {result['warnings']}"
    round_tripped = {name: result["xml"] for name, result in saved.items()}
    # the names bpmn-moddle dropped without the descriptor are written back
    main = round_tripped["eco_damage_claim.bpmn"]
    assert "<bpmn:loopDataInputRef>obligor_groups</bpmn:loopDataInputRef>" in main
    assert "<bpmn:loopDataOutputRef>group_outcomes</bpmn:loopDataOutputRef>" in main
    assert "spiffworkflow:serviceTaskOperator" in main and "spiffworkflow:parameter " in main
    before, after = _specs(originals), _specs(round_tripped)
    assert sorted(after) == sorted(before)
    problems = _differences(before, after)
    assert problems == [], "the round trip changed the specs:\n" + "\n".join(problems[:40])
    # the comparison saw the extensions (not two empty specs)
    tasks = before["eco_damage_claim"]["spec"]["task_specs"]
    assert any(t.get("extensions", {}).get("properties") for t in tasks.values())
    assert any(t.get("extensions", {}).get("serviceTaskOperator", {}).get("parameters") for t in tasks.values())
    assert any(t.get("data_input") for t in tasks.values())
