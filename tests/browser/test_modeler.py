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


NEW_NAME = "索赔启动登记（修订）"


def test_analyst_renames_a_task_saves_replays_and_deploys(person: Any) -> None:
    analyst = person("analyst1")
    page = analyst.page
    analyst.go("/models")
    assert page.locator("h1").inner_text() == "流程设计"
    rows = page.locator('.model-version[data-process="eco_damage_claim"]')
    versions_before = rows.count()
    assert versions_before >= 1
    latest = int(rows.first.get_attribute("data-version") or "0")
    rows.first.locator(".open-version").click()

    # the main process opens with its Chinese labels
    task = page.locator('#modeler-canvas g.djs-element[data-element-id="register_claim_start"]')
    task.wait_for(timeout=15000)
    assert "索赔启动登记" in (task.text_content() or "")
    assert page.locator('#modeler-canvas g.djs-element[data-element-id="screen_lead"]').text_content()
    assert f"第{latest}版" in page.locator("#modeler-title").inner_text()
    # bpmnlint's recommended rules run live: its button shows the count of issues
    page.locator(".bjsl-button").wait_for(timeout=10000)
    assert re.search(r"\d", page.locator(".bjsl-button").inner_text())
    analyst.shot("modeler-01-opened")

    # rename the task in the properties panel
    page.evaluate("() => window.ecoModeler.get('canvas').scrollToElement('register_claim_start')")
    task.click()
    page.locator(".bio-properties-panel-header-label", has_text="索赔启动登记").wait_for()
    name = page.locator("#bio-properties-panel-name")
    if not name.is_visible():
        page.locator(".bio-properties-panel-group-header", has_text="General").click()
    name.wait_for()
    name.fill(NEW_NAME)
    name.press("Tab")
    page.wait_for_function(
        "() => window.ecoModeler.get('elementRegistry').get('register_claim_start').businessObject.name === "
        + json.dumps(NEW_NAME))
    assert NEW_NAME in (task.text_content() or "")
    # the candidate role is a choice in the panel's 办理设置 group (spiffworkflow:property role)
    role = page.locator("#bio-properties-panel-spiff-role")
    if not role.is_visible():
        page.locator(".bio-properties-panel-group-header", has_text="办理设置").click()
    assert role.input_value() == "officer"
    assert page.locator("#bio-properties-panel-spiff-form").input_value() == "register_claim_start"
    role.select_option("division_head")
    page.wait_for_function(
        "() => window.ecoModeler.get('elementRegistry').get('register_claim_start').businessObject.extensionElements"
        ".values.find(v => v.$type === 'spiffworkflow:Properties').properties.find(p => p.name === 'role').value"
        " === 'division_head'")
    assert page.locator("#modeler-deploy").is_disabled()  # no deployment before a replay

    # save: validation passes, the replay report is shown
    page.get_by_role("button", name="保存（校验并回放）").click()
    summary = page.locator("#replay-summary")
    summary.wait_for(state="visible", timeout=60000)
    text = summary.inner_text()
    assert re.search(r"共回放\d+件案件：\d+件一致，\d+件不同", text), text
    assert page.locator("#modeler-problems").is_hidden()
    analyst.shot("modeler-02-replayed", full_page=True)

    # deploy: a new version is listed on the page
    page.get_by_role("button", name="部署新版本").click()
    new_row = page.locator(f'.model-version[data-process="eco_damage_claim"][data-version="{latest + 1}"]')
    new_row.wait_for(timeout=30000)
    assert "已部署" in page.locator("#modeler-status").inner_text()
    assert f"第{latest + 1}版" in page.locator("#modeler-title").inner_text()
    analyst.shot("modeler-03-deployed")

    # the new version holds the new name; the page lists it after a reload too
    analyst.go("/models")
    page.locator(f'.model-version[data-process="eco_damage_claim"][data-version="{latest + 1}"]').wait_for()
    page.locator(f'.model-version[data-process="eco_damage_claim"][data-version="{latest + 1}"] .open-version').click()
    page.locator('#modeler-canvas g.djs-element[data-element-id="register_claim_start"]').wait_for(timeout=15000)
    assert NEW_NAME in (page.locator('#modeler-canvas g.djs-element[data-element-id="register_claim_start"]')
                        .text_content() or "")
    assert page.evaluate(
        "() => window.ecoModeler.get('elementRegistry').get('register_claim_start').businessObject.extensionElements"
        ".values.find(v => v.$type === 'spiffworkflow:Properties').properties.find(p => p.name === 'role').value"
        ) == "division_head"

    # the readable diff against the version before names the renamed task and its changed role
    page.locator(f'.model-version[data-process="eco_damage_claim"][data-version="{latest + 1}"]') \
        .get_by_role("button", name="与上一版比较").click()
    diff = page.locator("#diff-list")
    diff.get_by_text("register_claim_start").first.wait_for()
    assert NEW_NAME in diff.inner_text() and "division_head" in diff.inner_text()
    with page.expect_download() as download:
        page.locator(f'.model-version[data-process="eco_damage_claim"][data-version="{latest + 1}"]') \
            .get_by_role("link", name="下载").click()
    saved = Path(download.value.path()).read_text(encoding="utf-8")
    assert NEW_NAME in saved and "<bpmn:loopDataInputRef>obligor_groups</bpmn:loopDataInputRef>" in saved
    analyst.shot("modeler-05-diff")


def test_validation_problems_name_their_elements(person: Any) -> None:
    analyst = person("analyst1")
    page = analyst.page
    analyst.go("/models?process=eco_damage_claim")
    page.locator('#modeler-canvas g.djs-element[data-element-id="register_claim_start"]').wait_for(timeout=15000)
    # break a condition of a sequence flow: the server lists the problem with its element (the gateway the flow
    # leaves), which is marked on the diagram
    gateway = page.evaluate("""() => {
      const registry = window.ecoModeler.get('elementRegistry');
      const flow = registry.filter(e => e.type === 'bpmn:SequenceFlow' && e.businessObject.conditionExpression)[0];
      window.ecoModeler.get('modeling').updateModdleProperties(flow, flow.businessObject.conditionExpression,
                                                               { body: 'import os' });
      return flow.source.id;
    }""")
    page.get_by_role("button", name="保存（校验并回放）").click()
    problem = page.locator(f'#modeler-problem-list li[data-element="{gateway}"]')
    problem.wait_for(timeout=30000)
    assert gateway in problem.inner_text() and "语法错误" in problem.inner_text()
    assert "校验未通过" in page.locator("#modeler-status").inner_text()
    assert page.locator(f'#modeler-canvas g.djs-element.has-problem[data-element-id="{gateway}"]').count() == 1
    assert page.locator("#modeler-replay").is_hidden() and page.locator("#modeler-deploy").is_disabled()
    analyst.shot("modeler-04-problems")


def test_officers_cannot_open_the_editor(person: Any) -> None:
    officer = person("officer1")
    response = officer.go("/models")
    assert response.status == 403
    response = officer.page.request.get(officer.base + "/models/data")
    assert response.status == 403


def test_the_editor_routes_need_the_csrf_token(person: Any) -> None:
    analyst = person("analyst1")
    files = {"eco_damage_claim": (ROOT / "bpmn/eco_damage_claim.bpmn").read_text(encoding="utf-8")}
    refused = analyst.page.request.post(analyst.base + "/models/changes/deploy", data={"files": files})
    assert refused.status == 400  # no X-CSRFToken: the session cookie alone does not deploy
    analyst.go("/models")
    token = json.loads(analyst.page.locator("body").get_attribute("hx-headers") or "{}")["X-CSRFToken"]
    checked = analyst.page.request.post(analyst.base + "/models/changes/validate", data={"files": files},
                                        headers={"X-CSRFToken": token})
    assert checked.status == 200 and checked.json() == {"problems": []}


def test_analyst_creates_a_new_process(person: Any) -> None:
    analyst = person("analyst1")
    page = analyst.page
    analyst.go("/models")
    page.get_by_label("流程 id").fill("restoration_followup")
    page.get_by_label("流程名称").fill("修复后回访")
    page.get_by_role("button", name="新建流程").click()
    page.locator('#modeler-canvas g.djs-element[data-element-id="restoration_followup_started"]').wait_for()
    assert "新流程" in page.locator("#modeler-title").inner_text()
    page.get_by_role("button", name="保存（校验并回放）").click()
    page.locator("#replay-summary").wait_for(state="visible", timeout=60000)
    page.get_by_role("button", name="部署新版本").click()
    page.locator('.model-version[data-process="restoration_followup"][data-version="1"]').wait_for(timeout=30000)
    assert "修复后回访" in page.locator('.model[data-process="restoration_followup"]').inner_text()
